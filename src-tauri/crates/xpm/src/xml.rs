//! Private XML reading: a small element tree built from quick-xml events, and the envelope and
//! streaming list readers on top of it.
//!
//! Owns the tolerant-reading rules: unknown elements and attributes are kept in the tree but
//! never required, text is unescaped (named and numeric references, CDATA), and nesting is
//! capped so hostile input cannot blow the stack. It does not know what a client is: mapping
//! elements to public types lives in `wire.rs`.
//!
//! Why a tree rather than `#[derive(Deserialize)]`: XPM's quirks (missing vs empty elements, one vs
//! many children, `Website` vs `WebSite`, dates in two forms) are easier to state and test as
//! explicit lookups, and the same tree builder serves the streaming list reader, which hands out
//! one `<Client>` at a time so a 50 MB list needs only one client's worth of memory.

use quick_xml::events::{BytesStart, Event};

use crate::error::{Error, Result};

/// Deepest nesting accepted; XPM's deepest real path is 5 levels.
const MAX_DEPTH: usize = 64;

/// One XML element with its attributes, concatenated text and child elements.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The first child with this name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All children with this name, in document order.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// True when the element has no child elements and only whitespace text.
    pub fn is_blank(&self) -> bool {
        self.children.is_empty() && self.text.trim().is_empty()
    }
}

/// Builds elements from events; returns each element whose end closes the outermost open one.
#[derive(Debug, Default)]
pub(crate) struct TreeBuilder {
    stack: Vec<Element>,
}

impl TreeBuilder {
    fn depth(&self) -> usize {
        self.stack.len()
    }

    fn open(&mut self, e: &BytesStart<'_>) -> Result<()> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(Error::malformed(format!(
                "XML nested deeper than {MAX_DEPTH}"
            )));
        }
        self.stack.push(start_element(e)?);
        Ok(())
    }

    fn text(&mut self, t: &str) {
        if let Some(top) = self.stack.last_mut() {
            top.text.push_str(t);
        }
    }

    fn close(&mut self) -> Option<Element> {
        let done = self.stack.pop()?;
        match self.stack.last_mut() {
            Some(parent) => {
                parent.children.push(done);
                None
            }
            None => Some(done),
        }
    }
}

fn start_element(e: &BytesStart<'_>) -> Result<Element> {
    let name = e.local_name().as_ref().to_owned();
    let mut attrs = Vec::new();
    for a in e.attributes().with_checks(false) {
        let a = a.map_err(|err| Error::malformed(format!("attribute on <{name}>: {err}")))?;
        let key = a.key.local_name().as_ref().to_owned();
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|err| Error::malformed(format!("attribute {key} on <{name}>: {err}")))?
            .into_owned();
        attrs.push((key, value));
    }
    Ok(Element {
        name,
        attrs,
        ..Element::default()
    })
}

/// Resolves `&name;` / `&#n;` references, which quick-xml reports as separate events.
fn resolve_ref(r: &quick_xml::events::BytesRef<'_>) -> Result<String> {
    if let Some(c) = r
        .resolve_char_ref()
        .map_err(|e| Error::malformed(format!("character reference: {e}")))?
    {
        return Ok(c.to_string());
    }
    let name = r.xml10_content();
    let s = match name.as_ref() {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        other => return Err(Error::malformed(format!("unknown entity &{other};"))),
    };
    Ok(s.to_owned())
}

/// What the list reader does with an event.
pub(crate) enum Step {
    /// Nothing to hand out yet.
    Continue,
    /// One complete repeated item (e.g. a `<Client>`).
    Item(Element),
    /// The root element closed.
    Done,
}

/// Reads a `<Response>` envelope whose `<{container}>` holds repeated `<{item}>` elements, handing
/// out each item as soon as it closes. Other children of the root (`Status`, `ErrorDescription`,
/// unknown ones) are kept whole: they are small.
pub(crate) struct ListReader {
    container: &'static str,
    item: &'static str,
    /// Depth of open elements above the current tree (0 = outside root, 1 = in root,
    /// 2 = in container).
    outer: Vec<String>,
    tree: TreeBuilder,
    /// Small children of the root, kept for the envelope check.
    pub root_children: Vec<Element>,
    root_seen: bool,
    done: bool,
    /// Depth of an item/ignored subtree being skipped inside the container.
    skipping: usize,
}

impl ListReader {
    pub fn new(container: &'static str, item: &'static str) -> Self {
        ListReader {
            container,
            item,
            outer: Vec::new(),
            tree: TreeBuilder::default(),
            root_children: Vec::new(),
            root_seen: false,
            done: false,
            skipping: 0,
        }
    }

    /// Feeds one event.
    ///
    /// # Errors
    /// [`Error::MalformedResponse`] for unbalanced or over-deep XML or bad references.
    pub fn feed(&mut self, ev: Event<'_>) -> Result<Step> {
        if self.done {
            return match ev {
                Event::Start(_) | Event::Empty(_) => {
                    Err(Error::malformed("content after the root element"))
                }
                _ => Ok(Step::Done),
            };
        }
        match ev {
            Event::Start(e) => {
                self.on_start(&e)?;
                Ok(Step::Continue)
            }
            Event::Empty(e) => {
                self.on_start(&e)?;
                self.on_end()
            }
            Event::End(_) => self.on_end(),
            Event::Text(t) => {
                self.on_text(&t.xml10_content());
                Ok(Step::Continue)
            }
            Event::CData(t) => {
                self.on_text(&t.xml10_content());
                Ok(Step::Continue)
            }
            Event::GeneralRef(r) => {
                let s = resolve_ref(&r)?;
                self.on_text(&s);
                Ok(Step::Continue)
            }
            Event::Eof => {
                if self.root_seen {
                    Err(Error::malformed("document ended inside an element"))
                } else {
                    Err(Error::malformed("empty response body"))
                }
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {
                Ok(Step::Continue)
            }
        }
    }

    fn in_container(&self) -> bool {
        self.outer.len() == 2 && self.outer[1] == self.container
    }

    fn on_start(&mut self, e: &BytesStart<'_>) -> Result<()> {
        if self.skipping > 0 {
            self.skipping += 1;
            if self.skipping > MAX_DEPTH {
                return Err(Error::malformed(format!(
                    "XML nested deeper than {MAX_DEPTH}"
                )));
            }
            return Ok(());
        }
        if self.tree.depth() > 0 {
            return self.tree.open(e);
        }
        let name = e.local_name().as_ref().to_owned();
        match self.outer.len() {
            0 => {
                if self.root_seen {
                    return Err(Error::malformed("more than one root element"));
                }
                self.root_seen = true;
                self.outer.push(name);
                Ok(())
            }
            1 if name == self.container => {
                self.outer.push(name);
                Ok(())
            }
            1 => self.tree.open(e),
            _ if self.in_container() && name == self.item => self.tree.open(e),
            _ => {
                // Unknown element inside the container: skip it without keeping it.
                self.skipping = 1;
                Ok(())
            }
        }
    }

    fn on_text(&mut self, t: &str) {
        if self.skipping == 0 && self.tree.depth() > 0 {
            self.tree.text(t);
        }
    }

    fn on_end(&mut self) -> Result<Step> {
        if self.skipping > 0 {
            self.skipping -= 1;
            return Ok(Step::Continue);
        }
        if self.tree.depth() > 0 {
            return Ok(match self.tree.close() {
                Some(el) if self.outer.len() == 1 => {
                    self.root_children.push(el);
                    Step::Continue
                }
                Some(el) => Step::Item(el),
                None => Step::Continue,
            });
        }
        match self.outer.pop() {
            Some(_) if self.outer.is_empty() => {
                self.done = true;
                Ok(Step::Done)
            }
            Some(_) => Ok(Step::Continue),
            None => Err(Error::malformed("closing tag without an opening tag")),
        }
    }

    /// True once the root element has closed.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Checks the envelope once the root closed: `Status` OK, or the XPM error.
    ///
    /// # Errors
    /// [`Error::Api`] for `Status` ERROR, [`Error::MalformedResponse`] when `Status` is missing.
    pub fn finish(&self) -> Result<()> {
        check_status(&self.root_children)
    }
}

/// Checks a `<Response>`'s `Status` child: OK (any case) passes; ERROR becomes [`Error::Api`].
pub(crate) fn check_status(root_children: &[Element]) -> Result<()> {
    let status = root_children.iter().find(|c| c.name == "Status");
    match status.map(|s| s.text.trim()) {
        Some(s) if s.eq_ignore_ascii_case("OK") => Ok(()),
        Some(s) => {
            let description = root_children
                .iter()
                .find(|c| c.name == "ErrorDescription")
                .map(|e| e.text.trim().to_owned())
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| format!("Status {s} without ErrorDescription"));
            Err(Error::Api { description })
        }
        None => Err(Error::malformed("Response/Status is missing")),
    }
}

/// Parses a whole document into its root element.
///
/// # Errors
/// [`Error::MalformedResponse`] for anything that is not one well-formed root element.
pub(crate) fn parse_document(bytes: &[u8]) -> Result<Element> {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut buf = Vec::new();
    let mut tree = TreeBuilder::default();
    let mut root: Option<Element> = None;
    loop {
        let ev = reader.read_event_into(&mut buf).map_err(|e| {
            Error::malformed(format!("XML at byte {}: {e}", reader.buffer_position()))
        })?;
        let closed = match ev {
            Event::Start(e) => {
                if root.is_some() {
                    return Err(Error::malformed("content after the root element"));
                }
                tree.open(&e)?;
                None
            }
            Event::Empty(e) => {
                if root.is_some() {
                    return Err(Error::malformed("content after the root element"));
                }
                tree.open(&e)?;
                tree.close()
            }
            Event::End(_) => {
                if tree.depth() == 0 {
                    return Err(Error::malformed("closing tag without an opening tag"));
                }
                tree.close()
            }
            Event::Text(t) => {
                tree.text(&t.xml10_content());
                None
            }
            Event::CData(t) => {
                tree.text(&t.xml10_content());
                None
            }
            Event::GeneralRef(r) => {
                tree.text(&resolve_ref(&r)?);
                None
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => None,
        };
        if let Some(el) = closed {
            root = Some(el);
        }
        buf.clear();
    }
    if tree.depth() > 0 {
        return Err(Error::malformed("document ended inside an element"));
    }
    root.ok_or_else(|| Error::malformed("empty response body"))
}

/// Parses a `<Response>` envelope and checks its `Status`; returns the root.
///
/// # Errors
/// [`Error::Api`] for `Status` ERROR, [`Error::MalformedResponse`] otherwise.
pub(crate) fn parse_envelope(bytes: &[u8]) -> Result<Element> {
    let root = parse_document(bytes)?;
    if root.name != "Response" {
        return Err(Error::malformed(format!(
            "expected <Response> root, found <{}>",
            root.name
        )));
    }
    check_status(&root.children)?;
    Ok(root)
}

/// Reads a list synchronously from any buffered reader, calling `each` per item. Used by the
/// fixtures tests, the property test and the bench; the HTTP path uses the async twin in
/// `client.rs` with the same [`ListReader`].
///
/// # Errors
/// As [`ListReader::feed`] and [`ListReader::finish`], plus whatever `each` returns.
pub(crate) fn read_list_sync<R: std::io::BufRead>(
    input: R,
    container: &'static str,
    item: &'static str,
    mut each: impl FnMut(Element) -> Result<()>,
) -> Result<()> {
    let mut reader = quick_xml::Reader::from_reader(input);
    let mut list = ListReader::new(container, item);
    let mut buf = Vec::new();
    loop {
        let ev = reader.read_event_into(&mut buf).map_err(|e| {
            Error::malformed(format!("XML at byte {}: {e}", reader.buffer_position()))
        })?;
        let eof = matches!(ev, Event::Eof);
        if eof && list.is_done() {
            break;
        }
        match list.feed(ev)? {
            Step::Item(el) => each(el)?,
            Step::Continue | Step::Done => {}
        }
        buf.clear();
    }
    list.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_cdata_are_unescaped() {
        let root =
            parse_document(b"<R><A>Smith &amp; Co &#38; &lt;x&gt;</A><B><![CDATA[a<b]]></B></R>")
                .expect("well-formed");
        assert_eq!(
            root.child("A").map(|a| a.text.as_str()),
            Some("Smith & Co & <x>")
        );
        assert_eq!(root.child("B").map(|a| a.text.as_str()), Some("a<b"));
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let doc = "<a>".repeat(10_000);
        assert!(
            parse_document(doc.as_bytes()).is_err(),
            "over-deep XML must be an error"
        );
    }

    #[test]
    fn error_status_becomes_api_error() {
        let err = parse_envelope(
            b"<Response api-method=\"Update\"><Status>ERROR</Status><ErrorDescription>Client not found</ErrorDescription></Response>",
        )
        .expect_err("ERROR status");
        assert!(
            matches!(&err, Error::Api { description } if description == "Client not found"),
            "got {err:?}"
        );
    }

    #[test]
    fn list_reader_hands_out_items_and_skips_strangers() {
        let doc = br#"<?xml version="1.0"?><Response api-method="List"><Status>OK</Status><Clients><Client><UUID>1</UUID></Client><Other/><Client><UUID>2</UUID></Client></Clients><Extra>x</Extra></Response>"#;
        let mut got = Vec::new();
        read_list_sync(&doc[..], "Clients", "Client", |el| {
            got.push(el.child("UUID").map(|u| u.text.clone()).unwrap_or_default());
            Ok(())
        })
        .expect("list reads");
        assert_eq!(got, vec!["1", "2"], "both clients, in order, nothing else");
    }

    #[test]
    fn truncated_list_is_malformed() {
        let doc = b"<Response><Status>OK</Status><Clients><Client><UUID>1</UUID>";
        let err = read_list_sync(&doc[..], "Clients", "Client", |_| Ok(())).expect_err("truncated");
        assert!(
            matches!(err, Error::MalformedResponse { .. }),
            "got {err:?}"
        );
    }
}
