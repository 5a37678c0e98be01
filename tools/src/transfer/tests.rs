//! Unit tests of import files, records and the export selection.

use super::{export::SchemaIndex, files::*, *};

fn file_with(bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("記録.csv");
    fs::write(&path, bytes).unwrap();
    (dir, path)
}

const CSV: &str = "記録ID,事実,分類\nR1,昼食を全量食べた。①,routine\nR2,\"10:20 大声を出し、床に座った\",unstable\n";

#[test]
fn excel_shift_jis_csv_is_read_as_written() {
    let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(CSV);
    assert!(!unmappable);
    let (_dir, path) = file_with(&sjis);
    let (text, used) = read_text(&path, TextEncoding::Auto).unwrap();
    assert_eq!(text, CSV);
    assert_eq!(used, "Shift_JIS (CP932)");
    let (text, _) = read_text(&path, TextEncoding::ShiftJis).unwrap();
    assert_eq!(text, CSV);
    // Named wrongly, it is refused with its line, never guessed.
    let e = read_text(&path, TextEncoding::Utf8)
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 1 is not valid UTF-8"), "{e}");
}

#[test]
fn utf8_with_or_without_bom_and_euc_jp_are_read() {
    let (_dir, path) = file_with(CSV.as_bytes());
    assert_eq!(
        read_text(&path, TextEncoding::Auto).unwrap(),
        (CSV.into(), "UTF-8")
    );
    let with_bom = [b"\xEF\xBB\xBF".as_slice(), CSV.as_bytes()].concat();
    let (_dir, path) = file_with(&with_bom);
    assert_eq!(read_text(&path, TextEncoding::Auto).unwrap().0, CSV);
    let euc = "記録ID,事実\nR1,夕食を半分残した。\n";
    let (bytes, _, _) = encoding_rs::EUC_JP.encode(euc);
    let (_dir, path) = file_with(&bytes);
    assert_eq!(read_text(&path, TextEncoding::EucJp).unwrap().0, euc);
}

#[test]
fn unreadable_bytes_name_their_line_and_the_fix() {
    // Valid UTF-8 for two lines, then bytes no Japanese encoding reads.
    let bytes = [b"a,b\n1,2\n".as_slice(), &[0x80, 0xFF, 0xFE, b'\n']].concat();
    let (_dir, path) = file_with(&bytes);
    let e = read_text(&path, TextEncoding::Auto)
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 3"), "{e}");
    assert!(e.contains("CSV UTF-8"), "{e}");
}

#[test]
fn csv_and_json_lines_errors_name_the_line() {
    let e = parse_records("a,b\n1,2\n1,2,3\n", Format::Csv, true)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("line 3 has 3 cells where the header has 2"),
        "{e}"
    );
    let e = parse_records("{\"a\":1}\n\n{\"a\":\n", Format::JsonLines, true)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("line 3 is not valid JSON"), "{e}");
    let e = parse_records("[1]\n", Format::JsonLines, true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 1 is not a JSON object"), "{e}");
}

#[test]
fn the_apis_nested_shape_is_accepted_beside_flat_columns() {
    let nested = r#"{"externalId":"R-1","clientExternalId":"K-001","content":{"fact":"昼食を完食した。","category":"ROUTINE","occurredFrom":"2026-11-20T12:30:00+09:00","tags":["食事"]}}"#;
    let flat = r#"{"externalId":"R-1","clientExternalId":"K-001","fact":"昼食を完食した。","category":"ROUTINE","occurredFrom":"2026-11-20T12:30:00+09:00","tags":["食事"]}"#;
    let a = parse_records(nested, Format::JsonLines, true).unwrap();
    let b = parse_records(flat, Format::JsonLines, true).unwrap();
    let renames = HashMap::new();
    let items: Vec<Value> = [a, b]
        .into_iter()
        .map(|r| item(ImportKind::Observations, r[0].1.clone(), &renames).unwrap())
        .collect();
    assert_eq!(items[0], items[1]);
    assert_eq!(items[0]["content"]["fact"], "昼食を完食した。");
    let e = parse_records(
        r#"{"fact":"a","content":{"fact":"b"}}"#,
        Format::JsonLines,
        true,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("line 1") && e.contains("both inside"), "{e}");
}

#[test]
fn spreadsheet_times_are_read_as_japan_time() {
    assert_eq!(
        normalize_time("2026-11-20T14:30:00+09:00").as_deref(),
        Some("2026-11-20T14:30:00+09:00")
    );
    assert_eq!(
        normalize_time("2026/11/20 14:30").as_deref(),
        Some("2026-11-20T14:30:00+09:00")
    );
    assert_eq!(
        normalize_time("2026-11-20 14:30:05").as_deref(),
        Some("2026-11-20T14:30:05+09:00")
    );
    assert_eq!(normalize_time("昨日"), None);
}

#[test]
fn columns_map_onto_fields() {
    let raw: Map<String, Value> = serde_json::from_value(json!({
        "記録ID": "R-1", "client_external_id": "K-1", "fact": "昼食を完食した",
        "category": "routine", "occurred_from": "2026/11/20 12:30", "tags": "食事| 昼食 ", "interpretation": ""
    })).unwrap();
    let renames = HashMap::from([("記録ID".to_owned(), "externalId".to_owned())]);
    let v = item(ImportKind::Observations, raw, &renames).unwrap();
    assert_eq!(v["externalId"], "R-1");
    assert_eq!(v["clientExternalId"], "K-1");
    assert_eq!(v["content"]["category"], "ROUTINE");
    assert_eq!(v["content"]["occurredFrom"], "2026-11-20T12:30:00+09:00");
    assert_eq!(v["content"]["tags"], json!(["食事", "昼食"]));
    assert!(
        v["content"].get("interpretation").is_none(),
        "empty cells are omitted"
    );
    let unknown: Map<String, Value> = serde_json::from_value(json!({"shoe_size": "27"})).unwrap();
    assert!(
        item(ImportKind::Clients, unknown, &HashMap::new())
            .unwrap_err()
            .message
            .contains("shoe_size")
    );
    let missing: Map<String, Value> = serde_json::from_value(json!({"externalId": "R-2", "category": "ROUTINE", "occurredFrom": "2026-11-20T12:30:00+09:00"})).unwrap();
    assert_eq!(
        item(ImportKind::Observations, missing, &HashMap::new())
            .unwrap_err()
            .field,
        Some("fact")
    );
    let wrong: Map<String, Value> = serde_json::from_value(json!({"externalId": "R-3", "fact": "x", "category": "daily", "occurredFrom": "2026-11-20T12:30:00+09:00"})).unwrap();
    assert_eq!(
        item(ImportKind::Observations, wrong, &HashMap::new())
            .unwrap_err()
            .field,
        Some("category")
    );
}

#[test]
fn export_selections_validate_against_the_schema() {
    let schema = SchemaIndex::new().unwrap();
    let profile = schema.selection(
        "Client",
        3,
        &["supportPlans", "meetings", "monitoringReports"]
            .into_iter()
            .collect(),
    );
    assert!(profile.contains("careTeam") && profile.contains("sharingConsents"));
    assert!(!profile.contains("materials"));
    let q = format!("query ExportClient($id: ID!) {{ client(id: $id) {{ {profile} }} }}");
    async_graphql::parser::parse_query(&q).unwrap();
}
