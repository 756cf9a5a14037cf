//! The PDF report: a title page, a page per creator (key numbers, follower-history chart,
//! Social Score breakdown) and a table per section, numbered pages, in the definition's
//! language. Drawn with the PDF base fonts (Helvetica, WinAnsi), so nothing is embedded.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType};
use chrono::{DateTime, NaiveDate, Utc};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use super::formats::{Table, is_rate};
use super::spec::Language;

const PORTRAIT: (f32, f32) = (595.0, 842.0);
const LANDSCAPE: (f32, f32) = (842.0, 595.0);
const MARGIN: f32 = 40.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// What the title page says about the run.
pub struct Cover<'a> {
    pub name: &'a str,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub generated: DateTime<Utc>,
    pub lake_versions: String,
    pub formulas: String,
}

struct Page {
    size: (f32, f32),
    content: Content,
}

fn words(language: Language) -> impl Fn(&str) -> &'static str {
    move |key| match (key, language) {
        ("subtitle", Language::PtBr) => "Relatório de influenciadores",
        ("subtitle", Language::En) => "Creator report",
        ("period", Language::PtBr) => "Período",
        ("period", Language::En) => "Period",
        ("generated", Language::PtBr) => "Gerado em",
        ("generated", Language::En) => "Generated",
        ("creators", Language::PtBr) => "Criadores",
        ("creators", Language::En) => "Creators",
        ("formulas", Language::PtBr) => "Fórmulas",
        ("formulas", Language::En) => "Formulas",
        ("versions", Language::PtBr) => "Versões do lake lidas",
        ("versions", Language::En) => "Lake versions read",
        ("page", Language::PtBr) => "página",
        ("page", Language::En) => "page",
        ("of", Language::PtBr) => "de",
        ("of", Language::En) => "of",
        ("followers", Language::PtBr) => "Seguidores no período",
        ("followers", Language::En) => "Followers over the period",
        ("breakdown", Language::PtBr) => "Composição do Social Score",
        ("breakdown", Language::En) => "Social Score breakdown",
        ("component", Language::PtBr) => "componente",
        ("component", Language::En) => "component",
        ("percentile", Language::PtBr) => "percentil",
        ("percentile", Language::En) => "percentile",
        ("weight", Language::PtBr) => "peso",
        ("weight", Language::En) => "weight",
        ("contribution", Language::PtBr) => "contribuição",
        ("contribution", Language::En) => "contribution",
        ("summary", Language::PtBr) => "Resumo",
        ("summary", Language::En) => "Summary",
        ("history", Language::PtBr) => "Histórico diário",
        ("history", Language::En) => "Daily history",
        ("score", Language::PtBr) => "Social Score por componente",
        ("score", Language::En) => "Social Score by component",
        ("flags", Language::PtBr) => "Alertas de autenticidade",
        ("flags", Language::En) => "Authenticity flags",
        ("ranking", Language::PtBr) => "Criadores por Social Score",
        ("ranking", Language::En) => "Creators by Social Score",
        ("no_data", Language::PtBr) => "sem dados no período",
        ("no_data", Language::En) => "no data for the period",
        ("engagement", Language::PtBr) => "engajamento",
        ("reach", Language::PtBr) => "alcance",
        ("growth", Language::PtBr) => "crescimento",
        ("sentiment", Language::PtBr) => "sentimento",
        ("authenticity", Language::PtBr) => "autenticidade",
        ("engagement", Language::En) => "engagement",
        ("reach", Language::En) => "reach",
        ("growth", Language::En) => "growth",
        ("sentiment", Language::En) => "sentiment",
        ("authenticity", Language::En) => "authenticity",
        _ => "",
    }
}

/// WinAnsi bytes of a text (the base fonts' encoding); what it cannot hold becomes `?`.
fn winansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '€' => 0x80,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            c if (c as u32) < 0x80 || ((c as u32) >= 0xA0 && (c as u32) <= 0xFF) => c as u32 as u8,
            _ => b'?',
        })
        .collect()
}

/// Cuts a text to about `width` points at `size` (Helvetica averages ~0.5 em per character).
fn fit(text: &str, width: f32, size: f32) -> String {
    let max = ((width / (size * 0.52)) as usize).max(2);
    if text.chars().count() <= max { text.to_owned() } else { text.chars().take(max - 1).chain(['…']).collect() }
}

fn write(content: &mut Content, font: Name, size: f32, x: f32, y: f32, text: &str) {
    content.begin_text().set_font(font, size).next_line(x, y).show(Str(&winansi(text))).end_text();
}

pub(super) fn number(value: f64, decimals: usize, language: Language) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = text.split_once('.').map_or((text.as_str(), ""), |(w, f)| (w, f));
    let (group, point) = if language == Language::En { (',', '.') } else { ('.', ',') };
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(digit);
    }
    let sign = if value < 0.0 && value.abs() >= 0.5 * 10f64.powi(-(decimals as i32)) { "-" } else { "" };
    if fraction.is_empty() { format!("{sign}{grouped}") } else { format!("{sign}{grouped}{point}{fraction}") }
}

fn date(day: NaiveDate, language: Language) -> String {
    if language == Language::En { day.format("%Y-%m-%d").to_string() } else { day.format("%d/%m/%Y").to_string() }
}

/// A cell as a reader expects it: rates in percent, numbers grouped, dates in the language.
fn cell(batch: &RecordBatch, column: usize, row: usize, language: Language) -> String {
    let array = batch.column(column);
    if array.is_null(row) {
        return "—".into();
    }
    let name = batch.schema().field(column).name().clone();
    match array.data_type() {
        DataType::Float64 => {
            let value = array.as_primitive::<Float64Type>().value(row);
            if is_rate(&name) { format!("{}%", number(value * 100.0, 2, language)) } else { number(value, 1, language) }
        }
        DataType::Int64 => number(array.as_primitive::<Int64Type>().value(row) as f64, 0, language),
        DataType::Boolean => array.as_boolean().value(row).to_string(),
        DataType::Date32 => NaiveDate::from_epoch_days(array.as_primitive::<Date32Type>().value(row)).map_or_else(String::new, |d| date(d, language)),
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            DateTime::from_timestamp_micros(array.as_primitive::<TimestampMicrosecondType>().value(row)).map_or_else(String::new, |t| date(t.date_naive(), language))
        }
        DataType::Utf8 => array.as_string::<i32>().value(row).to_owned(),
        other => format!("{other}"),
    }
}

fn column(batch: &RecordBatch, name: &str) -> Option<usize> {
    batch.schema().index_of(name).ok()
}

fn text_at(batch: &RecordBatch, name: &str, row: usize) -> String {
    column(batch, name).map(|c| cell(batch, c, row, Language::En)).unwrap_or_default()
}

fn float_at(batch: &RecordBatch, name: &str, row: usize) -> Option<f64> {
    let array = batch.column(column(batch, name)?);
    if array.is_null(row) {
        return None;
    }
    match array.data_type() {
        DataType::Float64 => Some(array.as_primitive::<Float64Type>().value(row)),
        DataType::Int64 => Some(array.as_primitive::<Int64Type>().value(row) as f64),
        _ => None,
    }
}

fn title_page(cover: &Cover, summary: Option<&RecordBatch>, language: Language) -> Page {
    let creators = summary.map_or(0, RecordBatch::num_rows);
    let w = words(language);
    let mut c = Content::new();
    c.set_fill_rgb(0.06, 0.46, 0.43).rect(0.0, 700.0, PORTRAIT.0, 142.0).fill_nonzero();
    c.set_fill_rgb(1.0, 1.0, 1.0);
    write(&mut c, BOLD, 28.0, MARGIN, 780.0, &fit(cover.name, PORTRAIT.0 - 2.0 * MARGIN, 28.0));
    write(&mut c, REGULAR, 14.0, MARGIN, 745.0, &format!("Analisa · {}", w("subtitle")));
    c.set_fill_rgb(0.06, 0.09, 0.16);
    let lines = [
        (w("period"), format!("{} – {}", date(cover.from, language), date(cover.to, language))),
        (w("creators"), creators.to_string()),
        (w("generated"), format!("{} UTC", cover.generated.format(if language == Language::En { "%Y-%m-%d %H:%M" } else { "%d/%m/%Y %H:%M" }))),
        (w("formulas"), cover.formulas.clone()),
    ];
    let mut y = 640.0;
    for (label, value) in lines {
        write(&mut c, BOLD, 12.0, MARGIN, y, label);
        write(&mut c, REGULAR, 12.0, MARGIN + 130.0, y, &fit(&value, PORTRAIT.0 - 2.0 * MARGIN - 130.0, 12.0));
        y -= 24.0;
    }
    write(&mut c, BOLD, 9.0, MARGIN, y - 10.0, w("versions"));
    write(&mut c, REGULAR, 8.0, MARGIN, y - 24.0, &fit(&cover.lake_versions, PORTRAIT.0 - 2.0 * MARGIN, 8.0));
    // The creators by Social Score (the summary's order), as many as the page holds.
    if let Some(summary) = summary {
        let mut y = y - 60.0;
        write(&mut c, BOLD, 12.0, MARGIN, y, w("ranking"));
        for row in 0..summary.num_rows().min(25) {
            y -= 16.0;
            write(&mut c, REGULAR, 10.0, MARGIN, y, &format!("{}.", row + 1));
            write(&mut c, REGULAR, 10.0, MARGIN + 25.0, y, &fit(&format!("@{} · {}", text_at(summary, "handle", row), text_at(summary, "platform", row)), 300.0, 10.0));
            let score = column(summary, "score").map_or_else(String::new, |i| cell(summary, i, row, language));
            write(&mut c, BOLD, 10.0, MARGIN + 340.0, y, &score);
        }
    }
    Page { size: PORTRAIT, content: c }
}

/// One creator: key numbers, the follower line over the period, the score's components.
fn creator_page(summary: &RecordBatch, row: usize, history: Option<&RecordBatch>, score: Option<&RecordBatch>, language: Language) -> Page {
    let w = words(language);
    let (platform, account) = (text_at(summary, "platform", row), text_at(summary, "account_id", row));
    let mut c = Content::new();
    c.set_fill_rgb(0.06, 0.09, 0.16);
    write(&mut c, BOLD, 20.0, MARGIN, 790.0, &fit(&format!("@{} · {}", text_at(summary, "handle", row), platform), 515.0, 20.0));
    write(&mut c, REGULAR, 10.0, MARGIN, 772.0, &fit(&text_at(summary, "display_name", row), 515.0, 10.0));
    // Key numbers: every summary column after the identity ones, two columns of label/value.
    let skip = ["platform", "account_id", "handle", "display_name"];
    let fields: Vec<usize> = (0..summary.num_columns()).filter(|&i| !skip.contains(&summary.schema().field(i).name().as_str())).collect();
    for (k, &i) in fields.iter().enumerate() {
        let (x, y) = (MARGIN + (k % 2) as f32 * 260.0, 745.0 - (k / 2) as f32 * 15.0);
        write(&mut c, REGULAR, 9.0, x, y, summary.schema().field(i).name());
        write(&mut c, BOLD, 9.0, x + 140.0, y, &cell(summary, i, row, language));
    }
    let top = 745.0 - ((fields.len() + 1) / 2) as f32 * 15.0 - 20.0;

    // Follower history: a polyline over the period with its first and last values.
    write(&mut c, BOLD, 12.0, MARGIN, top, w("followers"));
    let (chart_top, height, width) = (top - 12.0, 170.0, 515.0);
    let points: Vec<(NaiveDate, f64)> = history
        .map(|h| {
            (0..h.num_rows())
                .filter(|&r| text_at(h, "platform", r) == platform && text_at(h, "account_id", r) == account)
                .filter_map(|r| Some((text_at(h, "date", r).parse().ok()?, float_at(h, "followers", r)?)))
                .collect()
        })
        .unwrap_or_default();
    c.set_stroke_rgb(0.8, 0.84, 0.88).set_line_width(0.5).rect(MARGIN, chart_top - height, width, height).stroke();
    if points.len() >= 2 {
        let (low, high) = points.iter().fold((f64::MAX, f64::MIN), |(l, h), (_, v)| (l.min(*v), h.max(*v)));
        let span = if high > low { high - low } else { 1.0 };
        let x = |i: usize| MARGIN + 10.0 + (width - 20.0) * i as f32 / (points.len() - 1) as f32;
        let y = |v: f64| chart_top - height + 15.0 + (height - 30.0) * ((v - low) / span) as f32;
        c.set_stroke_rgb(0.06, 0.46, 0.43).set_line_width(1.6).move_to(x(0), y(points[0].1));
        for (i, (_, v)) in points.iter().enumerate().skip(1) {
            c.line_to(x(i), y(*v));
        }
        c.stroke();
        let (first, last) = (points[0], points[points.len() - 1]);
        write(&mut c, REGULAR, 8.0, MARGIN + 4.0, chart_top - height - 11.0, &format!("{} · {}", date(first.0, language), number(first.1, 0, language)));
        let end = format!("{} · {}", date(last.0, language), number(last.1, 0, language));
        write(&mut c, REGULAR, 8.0, MARGIN + width - end.len() as f32 * 4.4, chart_top - height - 11.0, &end);
        write(&mut c, REGULAR, 7.0, MARGIN + 4.0, chart_top - 10.0, &number(high, 0, language));
        write(&mut c, REGULAR, 7.0, MARGIN + 4.0, chart_top - height + 4.0, &number(low, 0, language));
    } else if let Some((day, value)) = points.first() {
        // One snapshot is a point, not a line.
        c.set_fill_rgb(0.06, 0.46, 0.43).rect(MARGIN + width / 2.0 - 2.0, chart_top - height / 2.0 - 2.0, 4.0, 4.0).fill_nonzero();
        c.set_fill_rgb(0.06, 0.09, 0.16);
        write(&mut c, REGULAR, 8.0, MARGIN + width / 2.0 + 6.0, chart_top - height / 2.0 - 3.0, &format!("{} · {}", date(*day, language), number(*value, 0, language)));
    } else {
        write(&mut c, REGULAR, 9.0, MARGIN + 10.0, chart_top - height / 2.0, w("no_data"));
    }

    // The score's components: percentile, weight and a bar of the contribution.
    let mut y = chart_top - height - 40.0;
    write(&mut c, BOLD, 12.0, MARGIN, y, w("breakdown"));
    y -= 18.0;
    for (x, key) in [(MARGIN, "component"), (MARGIN + 120.0, "percentile"), (MARGIN + 200.0, "weight"), (MARGIN + 270.0, "contribution")] {
        write(&mut c, BOLD, 8.0, x, y, w(key));
    }
    if let Some(score) = score {
        for r in (0..score.num_rows()).filter(|&r| text_at(score, "platform", r) == platform && text_at(score, "account_id", r) == account) {
            y -= 15.0;
            let component = text_at(score, "component", r);
            let name = match w(&component) {
                "" => component.as_str(),
                known => known,
            };
            write(&mut c, REGULAR, 9.0, MARGIN, y, name);
            write(&mut c, REGULAR, 9.0, MARGIN + 120.0, y, &float_at(score, "percentile", r).map_or("—".into(), |p| number(p, 0, language)));
            write(&mut c, REGULAR, 9.0, MARGIN + 200.0, y, &float_at(score, "weight", r).map_or("—".into(), |p| format!("{}%", number(p * 100.0, 0, language))));
            let contribution = float_at(score, "contribution", r).unwrap_or(0.0);
            c.set_fill_rgb(0.37, 0.92, 0.83).rect(MARGIN + 270.0, y - 1.0, (contribution as f32 * 6.0).clamp(0.0, 200.0), 8.0).fill_nonzero();
            c.set_fill_rgb(0.06, 0.09, 0.16);
            write(&mut c, REGULAR, 9.0, MARGIN + 480.0, y, &number(contribution, 1, language));
        }
    }
    Page { size: PORTRAIT, content: c }
}

/// A section as a table over as many landscape pages as its rows need.
fn table_pages(table: &Table, language: Language) -> Vec<Page> {
    let w = words(language);
    let batch = &table.batch;
    let columns = batch.num_columns().max(1);
    let width = (LANDSCAPE.0 - 2.0 * MARGIN) / columns as f32;
    let rows_per_page = 34;
    let chunks: Vec<Vec<usize>> = if batch.num_rows() == 0 { vec![vec![]] } else { (0..batch.num_rows()).collect::<Vec<_>>().chunks(rows_per_page).map(<[usize]>::to_vec).collect() };
    chunks
        .into_iter()
        .map(|rows| {
            let mut c = Content::new();
            c.set_fill_rgb(0.06, 0.09, 0.16);
            write(&mut c, BOLD, 14.0, MARGIN, LANDSCAPE.1 - 50.0, w(table.name));
            let mut y = LANDSCAPE.1 - 75.0;
            c.set_fill_rgb(0.87, 0.94, 0.92).rect(MARGIN, y - 4.0, LANDSCAPE.0 - 2.0 * MARGIN, 14.0).fill_nonzero();
            c.set_fill_rgb(0.06, 0.09, 0.16);
            for (i, field) in batch.schema().fields().iter().enumerate() {
                write(&mut c, BOLD, 6.5, MARGIN + 2.0 + i as f32 * width, y, &fit(field.name(), width - 4.0, 6.5));
            }
            if rows.is_empty() {
                write(&mut c, REGULAR, 8.0, MARGIN + 2.0, y - 16.0, w("no_data"));
            }
            for row in rows {
                y -= 13.5;
                for i in 0..batch.num_columns() {
                    write(&mut c, REGULAR, 6.5, MARGIN + 2.0 + i as f32 * width, y, &fit(&cell(batch, i, row, language), width - 4.0, 6.5));
                }
            }
            Page { size: LANDSCAPE, content: c }
        })
        .collect()
}

/// The whole report. `shown` names the sections whose tables the reader asked for (the
/// creator pages use summary, history and score whatever was asked).
pub fn render(cover: &Cover, tables: &[Table], shown: &[&str], language: Language) -> Vec<u8> {
    let find = |name: &str| tables.iter().find(|t| t.name == name).map(|t| &t.batch);
    let summary = find("summary");
    let mut pages = vec![title_page(cover, summary, language)];
    if let Some(summary) = summary {
        for row in 0..summary.num_rows() {
            pages.push(creator_page(summary, row, find("history"), find("score"), language));
        }
    }
    for table in tables.iter().filter(|t| shown.contains(&t.name)) {
        pages.extend(table_pages(table, language));
    }

    let w = words(language);
    let mut pdf = Pdf::new();
    let (catalog, tree, info, regular, bold) = (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5));
    let page_ids: Vec<Ref> = (0..pages.len()).map(|i| Ref::new(10 + 2 * i as i32)).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(page_ids.iter().copied()).count(pages.len() as i32);
    pdf.document_info(info).title(TextStr(cover.name)).producer(TextStr("Analisa"));
    pdf.type1_font(regular).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold).base_font(Name(b"Helvetica-Bold")).encoding_predefined(Name(b"WinAnsiEncoding"));
    let total = pages.len();
    for (i, mut page) in pages.into_iter().enumerate() {
        footer(&mut page, &format!("{} · {} {} {} {}", cover.name, w("page"), i + 1, w("of"), total));
        let (id, content_id) = (page_ids[i], Ref::new(11 + 2 * i as i32));
        let mut writer = pdf.page(id);
        writer.media_box(Rect::new(0.0, 0.0, page.size.0, page.size.1)).parent(tree).contents(content_id);
        writer.resources().fonts().pair(REGULAR, regular).pair(BOLD, bold);
        writer.finish();
        pdf.stream(content_id, &page.content.finish());
    }
    pdf.finish()
}

fn footer(page: &mut Page, text: &str) {
    page.content.set_fill_rgb(0.28, 0.33, 0.41);
    write(&mut page.content, REGULAR, 8.0, MARGIN, 22.0, &fit(text, page.size.0 - 2.0 * MARGIN, 8.0));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_text_follow_the_language_and_the_base_fonts() {
        assert_eq!(number(1234.5, 1, Language::PtBr), "1.234,5");
        assert_eq!(number(1234.5, 1, Language::En), "1,234.5");
        assert_eq!(number(-0.04, 1, Language::En), "0.0");
        assert_eq!(number(-1200.0, 0, Language::PtBr), "-1.200");
        assert_eq!(winansi("São — ok 😀"), b"S\xe3o \x97 ok ?".to_vec());
        assert_eq!(fit("a very long handle indeed", 30.0, 10.0), "a ve…");
        assert_eq!(fit("short", 30.0, 10.0), "short");
    }
}
