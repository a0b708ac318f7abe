//! Parse-throughput and peak-memory bench for the streamed `client.api/list?detailed=true`
//! reader.
//!
//! Generates a detailed client list of about 50 MB (override with the first argument, in MB)
//! into a temporary file, one client at a time, then parses it twice and prints MB/s and the
//! process's peak resident memory (`VmHWM` from `/proc/self/status`) after each pass:
//! 1. straight from the file through the list reader and client mapping that
//!    `XpmClient::for_each_client` uses;
//! 2. end to end through `XpmClient::for_each_client`, served over HTTP by a minimal loopback
//!    server that streams the file from disk (so the body never sits in memory whole).
//!
//! Run: `cargo run --release -p xpm --example parse_bench [MB]`

use std::io::{BufReader, BufWriter, Write};
use std::time::Instant;

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn write_client(out: &mut impl Write, i: u64) -> std::io::Result<()> {
    let id = |n: u64| format!("00000000-aaaa-4bbb-8ccc-{n:012x}");
    write!(
        out,
        "<Client><UUID>{}</UUID><Name>Client {i} Pty Ltd &amp; Co</Name><Email>c{i}@example.test</Email>\
<DateOfBirth>1970-11-26T00:00:00</DateOfBirth><Address>{i} Quarry Lane</Address><City>Tamworth</City>\
<Region>NSW</Region><PostCode>2340</PostCode><Country>Australia</Country>\
<PostalAddress>PO Box {i}\n  Tamworth</PostalAddress><PostalCity>Tamworth</PostalCity><PostalRegion>NSW</PostalRegion>\
<PostalPostCode>2340</PostalPostCode><PostalCountry /><Phone>02 5550 1234</Phone><Fax /><Website />\
<ReferralSource /><ExportCode>C{i}</ExportCode><IsArchived>No</IsArchived><IsDeleted>No</IsDeleted>\
<AccountManager><UUID>{}</UUID><Name>Ivy Marsh</Name></AccountManager>\
<Type><Name>Monthly</Name><CostMarkup>0.00</CostMarkup><PaymentTerm>WithinDays</PaymentTerm><PaymentDay>14</PaymentDay></Type>\
<Contacts><Contact><UUID>{}</UUID><Name>Contact {i}</Name><Salutation>Pat</Salutation><Addressee>Pat</Addressee>\
<Mobile /><Email>p{i}@example.test</Email><Phone /><IsDeleted>No</IsDeleted><IsPrimary>Yes</IsPrimary><Position>Director</Position></Contact></Contacts>\
<Notes><Note><Title>Onboarding</Title><Text>Met the directors; engagement letter signed.</Text><Folder>General</Folder><Date>2008-09-12T13:00:00</Date><CreatedBy>Ivy Marsh</CreatedBy></Note></Notes>\
<BillingClient /><JobManager><UUID>{}</UUID><Name>Theo Grant</Name></JobManager><FirstName /><LastName /><OtherName />\
<TaxNumber>******321</TaxNumber><CompanyNumber>000111222</CompanyNumber><BusinessNumber>00 000 111 222</BusinessNumber>\
<BusinessStructure>Company</BusinessStructure><BalanceMonth>6</BalanceMonth><PrepareGST>Yes</PrepareGST>\
<GSTRegistered>Yes</GSTRegistered><GSTPeriod>2 Monthly</GSTPeriod><GSTBasis>Payment</GSTBasis>\
<PrepareActivityStatement>Yes</PrepareActivityStatement><PrepareTaxReturn>Yes</PrepareTaxReturn>\
<Groups><Group><UUID>{}</UUID><Name>Group {}</Name></Group></Groups><Relationships>",
        id(i),
        id(0xa1),
        id(0x1_0000_0000 + i),
        id(0xa2),
        id(0xf_0000_0000 + i / 5),
        i / 5
    )?;
    for r in 0..3u64 {
        write!(
            out,
            "<Relationship><UUID>{}</UUID><Type>Shareholder</Type><RelatedClient><UUID>{}</UUID><Name>Client {}</Name></RelatedClient>\
<NumberOfShares>{}</NumberOfShares><Percentage>0</Percentage><StartDate>2019-07-01</StartDate><EndDate /></Relationship>",
            id(0xe_0000_0000 + i * 3 + r),
            id(i + r + 1),
            i + r + 1,
            100 * (r + 1)
        )?;
    }
    out.write_all(b"</Relationships></Client>\n")
}

/// Serves `path` as the body of every request on 127.0.0.1, streaming it from disk.
async fn serve_file(path: std::path::PathBuf) -> std::io::Result<std::net::SocketAddr> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let path = path.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
                    if sock
                        .read(&mut byte)
                        .await
                        .ok()
                        .filter(|n| *n == 1)
                        .is_none()
                    {
                        return;
                    }
                    head.push(byte[0]);
                }
                let Ok(mut file) = tokio::fs::File::open(&path).await else {
                    return;
                };
                let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
                let header = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {len}\r\nxero-correlation-id: bench\r\nConnection: close\r\n\r\n"
                );
                if sock.write_all(header.as_bytes()).await.is_ok() {
                    let _ = tokio::io::copy(&mut file, &mut sock).await;
                }
            });
        }
    });
    Ok(addr)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target_mb: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let target = target_mb * 1024 * 1024;
    let path = std::env::temp_dir().join(format!("xpm-parse-bench-{}.xml", std::process::id()));

    let file = std::fs::File::create(&path)?;
    let mut out = BufWriter::new(file);
    out.write_all(b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Response api-method=\"List\"><Status>OK</Status><Clients>\n")?;
    let mut written = 0u64;
    let mut n = 0u64;
    while written < target {
        let mut one = Vec::with_capacity(4096);
        write_client(&mut one, n)?;
        out.write_all(&one)?;
        written += one.len() as u64;
        n += 1;
    }
    out.write_all(b"</Clients></Response>\n")?;
    out.flush()?;
    drop(out);
    let size = std::fs::metadata(&path)?.len();
    let hwm_before = vm_hwm_kib();

    let reader = BufReader::with_capacity(64 * 1024, std::fs::File::open(&path)?);
    let start = Instant::now();
    let mut clients = 0u64;
    let mut relationships = 0u64;
    xpm::__private::read_client_list(reader, |c| {
        clients += 1;
        relationships += c.relationships.map_or(0, |r| r.len() as u64);
    })?;
    let secs = start.elapsed().as_secs_f64();
    let hwm_after = vm_hwm_kib();

    // Pass 2: the real HTTP path.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (http_clients, http_secs) = rt.block_on(async {
        let addr = serve_file(path.clone()).await?;
        let mut settings = xpm::Settings::new("bench", "http://localhost:1/cb");
        settings.api_base_url = format!("http://{addr}/practicemanager/3.1/");
        let client = xpm::XpmClient::new(settings)?;
        let session = xpm::Session::new(
            xpm::AccessToken::new("bench".into()),
            xpm::TenantId::new("bench-tenant"),
        );
        let opts = xpm::ListClientsOptions {
            detailed: true,
            ..Default::default()
        };
        let start = Instant::now();
        let n = client.for_each_client(&session, &opts, |_| {}).await?;
        Ok::<_, Box<dyn std::error::Error>>((n as u64, start.elapsed().as_secs_f64()))
    })?;
    let hwm_http = vm_hwm_kib();
    std::fs::remove_file(&path)?;

    let mb = size as f64 / (1024.0 * 1024.0);
    println!("generated: {mb:.1} MB, {n} detailed clients");
    println!("parsed:    {clients} clients, {relationships} relationships in {secs:.2} s");
    println!("throughput: {:.1} MB/s", mb / secs);
    println!(
        "over HTTP (XpmClient::for_each_client, loopback): {http_clients} clients in {http_secs:.2} s, {:.1} MB/s",
        mb / http_secs
    );
    let mib =
        |k: Option<u64>| k.map_or("n/a".to_owned(), |k| format!("{:.1} MB", k as f64 / 1024.0));
    println!(
        "peak memory (VmHWM): {} before parsing, {} after the file pass, {} after the HTTP pass",
        mib(hwm_before),
        mib(hwm_after),
        mib(hwm_http)
    );
    assert_eq!(clients, n, "every generated client must be parsed");
    assert_eq!(
        http_clients, n,
        "every generated client must arrive over HTTP"
    );
    Ok(())
}
