//! XML reading and writing on top of quick-xml.
//!
//! Owns the small element tree ([`Node`]) that request bodies and fixture files are parsed into
//! (keeping "absent" and "empty" apart, reference §3.1), and the [`XmlOut`] writer that builds
//! every XPM response (escaping `&`, `<`, `>` in text as .NET writers do; reference §3.1
//! "Text is UTF-8 … escaped").

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer};

/// One parsed XML element: name, attributes, child elements and its own text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Node {
    /// Element name as written (case kept).
    pub name: String,
    /// Attributes, unescaped, in document order.
    pub attrs: Vec<(String, String)>,
    /// Child elements in document order.
    pub children: Vec<Node>,
    /// Concatenated text directly inside this element (unescaped, whitespace kept).
    pub text: String,
}

/// A request or fixture body that is not well-formed XML.
#[derive(Debug, thiserror::Error)]
#[error("malformed XML: {0}")]
pub struct XmlError(pub String);

impl Node {
    /// Parses a document and returns its root element.
    ///
    /// Errors: [`XmlError`] on malformed XML, an unknown entity, or no root element.
    pub fn parse(doc: &str) -> Result<Node, XmlError> {
        let mut reader = Reader::from_str(doc);
        let mut stack: Vec<Node> = Vec::new();
        let mut root: Option<Node> = None;
        loop {
            let ev = reader
                .read_event()
                .map_err(|e| XmlError(format!("at {}: {e}", reader.buffer_position())))?;
            match ev {
                Event::Start(s) => stack.push(Self::start(&s)?),
                Event::Empty(s) => {
                    let n = Self::start(&s)?;
                    match stack.last_mut() {
                        Some(p) => p.children.push(n),
                        None => root = Some(n),
                    }
                }
                Event::End(_) => {
                    let n = stack
                        .pop()
                        .ok_or_else(|| XmlError("unbalanced end tag".into()))?;
                    match stack.last_mut() {
                        Some(p) => p.children.push(n),
                        None => root = Some(n),
                    }
                }
                Event::Text(t) => {
                    if let Some(p) = stack.last_mut() {
                        p.text.push_str(&t.xml10_content());
                    }
                }
                Event::CData(t) => {
                    if let Some(p) = stack.last_mut() {
                        p.text.push_str(&t.xml10_content());
                    }
                }
                Event::GeneralRef(r) => {
                    let s = if let Some(ch) =
                        r.resolve_char_ref().map_err(|e| XmlError(e.to_string()))?
                    {
                        ch.to_string()
                    } else {
                        let name = r.xml10_content();
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| XmlError(format!("unknown entity &{name};")))?
                            .to_string()
                    };
                    if let Some(p) = stack.last_mut() {
                        p.text.push_str(&s);
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if !stack.is_empty() {
            return Err(XmlError("unexpected end of document".into()));
        }
        root.ok_or_else(|| XmlError("no root element".into()))
    }

    fn start(s: &BytesStart<'_>) -> Result<Node, XmlError> {
        let qn = s.name();
        let name: String = AsRef::<str>::as_ref(&qn).to_string();
        let mut attrs = Vec::new();
        for a in s.attributes() {
            let a = a.map_err(|e| XmlError(e.to_string()))?;
            let k: String = AsRef::<str>::as_ref(&a.key).to_string();
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| XmlError(e.to_string()))?
                .into_owned();
            attrs.push((k, v));
        }
        Ok(Node {
            name,
            attrs,
            ..Node::default()
        })
    }

    /// The first child element called `name` (exact case), if any.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The text of child `name`: `None` if absent, `Some("")` if present but empty.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    /// The text of child `name`, trimmed, or `None` if absent or blank.
    pub fn child_value(&self, name: &str) -> Option<&str> {
        self.child_text(name)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// The value of attribute `name`, if present.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Writer for response bodies. Infallible in practice (writes into a `Vec<u8>`).
pub struct XmlOut {
    w: Writer<Vec<u8>>,
}

impl Default for XmlOut {
    fn default() -> Self {
        Self::new()
    }
}

impl XmlOut {
    /// An empty document without prolog.
    pub fn new() -> Self {
        XmlOut {
            w: Writer::new(Vec::with_capacity(1024)),
        }
    }

    /// An empty document starting with `<?xml version="1.0" encoding="utf-8"?>`.
    pub fn with_prolog() -> Self {
        let mut x = Self::new();
        let _ =
            x.w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)));
        x
    }

    /// Text escaped as .NET's XmlWriter does: `&`, `<`, `>` only (quotes stay literal).
    fn text(t: &str) -> BytesText<'_> {
        BytesText::from_escaped(quick_xml::escape::partial_escape(t))
    }

    /// Opens `<name a="v"…>`.
    pub fn open(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        let mut s = BytesStart::new(name);
        for (k, v) in attrs {
            s.push_attribute((*k, *v));
        }
        let _ = self.w.write_event(Event::Start(s));
        self
    }

    /// Closes `</name>`.
    pub fn close(&mut self, name: &str) -> &mut Self {
        let _ = self.w.write_event(Event::End(BytesEnd::new(name)));
        self
    }

    /// Writes `<name>text</name>`, or `<name />` when `text` is empty.
    pub fn el(&mut self, name: &str, text: &str) -> &mut Self {
        if text.is_empty() {
            return self.empty(name);
        }
        let _ = self.w.write_event(Event::Start(BytesStart::new(name)));
        let _ = self.w.write_event(Event::Text(Self::text(text)));
        let _ = self.w.write_event(Event::End(BytesEnd::new(name)));
        self
    }

    /// Writes `<name />`.
    pub fn empty(&mut self, name: &str) -> &mut Self {
        let _ = self.w.write_event(Event::Empty(BytesStart::new(name)));
        self
    }

    /// Writes `<name>` with text only when `text` is `Some`; nothing when `None` (absent).
    pub fn opt(&mut self, name: &str, text: Option<&str>) -> &mut Self {
        if let Some(t) = text {
            self.el(name, t);
        }
        self
    }

    /// Appends a parsed node verbatim (used for fixture elements the simulator does not model).
    pub fn node(&mut self, n: &Node) -> &mut Self {
        if n.children.is_empty() && n.text.is_empty() && n.attrs.is_empty() {
            return self.empty(&n.name);
        }
        let attrs: Vec<(&str, &str)> = n
            .attrs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.open(&n.name, &attrs);
        if !n.text.is_empty() && n.children.is_empty() {
            let _ = self.w.write_event(Event::Text(Self::text(&n.text)));
        }
        for c in &n.children {
            self.node(c);
        }
        self.close(&n.name)
    }

    /// The finished document.
    pub fn finish(self) -> String {
        String::from_utf8(self.w.into_inner()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_keeps_absent_empty_and_entities_apart() {
        let n = Node::parse(
            "<?xml version=\"1.0\"?><Client><Name>A &amp; B &lt;x&gt; &#233;</Name><Fax /><Web></Web>\
             <add uuid=\"u&amp;1\"/></Client>",
        )
        .expect("well-formed");
        assert_eq!(n.child_text("Name"), Some("A & B <x> é"));
        assert_eq!(
            n.child_text("Fax"),
            Some(""),
            "empty element is present-but-empty"
        );
        assert_eq!(n.child_text("Web"), Some(""));
        assert_eq!(n.child_text("Phone"), None, "absent element is None");
        assert_eq!(n.child("add").and_then(|a| a.attr("uuid")), Some("u&1"));
    }

    #[test]
    fn malformed_is_an_error() {
        assert!(Node::parse("<Client><Name>x</Client>").is_err());
        assert!(Node::parse("<Client><Name>x</Name>").is_err());
    }

    #[test]
    fn writer_escapes_special_characters() {
        let mut x = XmlOut::new();
        x.open("R", &[])
            .el("N", "A & <B> 'c' \"d\"")
            .empty("E")
            .close("R");
        let s = x.finish();
        assert!(s.contains("A &amp; &lt;B&gt;"), "{s}");
        assert!(s.contains("<E/>") || s.contains("<E />"), "{s}");
        let back = Node::parse(&s).expect("round trip");
        assert_eq!(back.child_text("N"), Some("A & <B> 'c' \"d\""));
    }
}
