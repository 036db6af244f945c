#include "shared/xlsx.h"

#include <Poco/AutoPtr.h>
#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/NodeList.h>
#include <Poco/Exception.h>
#include <Poco/Path.h>
#include <Poco/SAX/InputSource.h>
#include <Poco/Zip/Compress.h>
#include <Poco/Zip/ZipArchive.h>
#include <Poco/Zip/ZipStream.h>

#include <map>
#include <sstream>

#include "shared/text.h"

namespace ocop::xlsx {

namespace {

constexpr const char* kMain = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
constexpr const char* kRels = "http://schemas.openxmlformats.org/package/2006/relationships";
constexpr const char* kDocRels = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
constexpr size_t kMaxPartBytes = 64 * 1024 * 1024;

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

// "A", "B", … "Z", "AA" … for a 0-based column.
std::string ColumnName(size_t i) {
  std::string name;
  for (size_t n = i + 1; n > 0; n = (n - 1) / 26) name.insert(name.begin(), static_cast<char>('A' + (n - 1) % 26));
  return name;
}

// The 0-based column of a cell reference ("C12" -> 2); -1 if it has none.
long ColumnOf(const std::string& ref) {
  long n = 0;
  size_t i = 0;
  for (; i < ref.size() && ref[i] >= 'A' && ref[i] <= 'Z'; ++i) {
    n = n * 26 + (ref[i] - 'A' + 1);
    if (n > 16384) return -1;
  }
  return i == 0 ? -1 : n - 1;
}

void Add(Poco::Zip::Compress& zip, const std::string& path, const std::string& content) {
  std::istringstream in(content);
  zip.addFile(in, Poco::DateTime(2026, 1, 1), Poco::Path(path, Poco::Path::PATH_UNIX));
}

std::string ReadPart(std::istream& in, const Poco::Zip::ZipArchive& archive, const std::string& name, bool* found) {
  auto it = archive.findHeader(name);
  *found = it != archive.headerEnd();
  if (!*found) return "";
  if (it->second.getUncompressedSize() > kMaxPartBytes)
    throw Poco::DataFormatException(name + " inflates to more than 64 MB");
  in.clear();
  Poco::Zip::ZipInputStream zin(in, it->second);
  std::string out;
  char buf[65536];
  while (zin.read(buf, sizeof buf) || zin.gcount() > 0) {
    out.append(buf, static_cast<size_t>(zin.gcount()));
    if (out.size() > kMaxPartBytes) throw Poco::DataFormatException(name + " inflates to more than 64 MB");
  }
  return out;
}

Poco::AutoPtr<Poco::XML::Document> Parse(const std::string& xml, const std::string& part) {
  // No document type declarations: they are how XML entity bombs arrive.
  if (xml.find("<!DOCTYPE") != std::string::npos || xml.find("<!ENTITY") != std::string::npos)
    throw Poco::DataFormatException(part + " declares a document type, which a workbook never does");
  Poco::XML::DOMParser parser;
  parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACES, true);
  return parser.parseString(xml);
}

// The text of every <t> under `node` (rich text runs), phonetic runs left out.
std::string TextOf(Poco::XML::Element* node) {
  std::string out;
  Poco::AutoPtr<Poco::XML::NodeList> ts = node->getElementsByTagNameNS(kMain, "t");
  for (unsigned long i = 0; i < ts->length(); ++i) {
    Poco::XML::Node* t = ts->item(i);
    if (t->parentNode() && t->parentNode()->localName() == "rPh") continue;
    out += t->innerText();
  }
  return out;
}

Poco::XML::Element* FirstChild(Poco::XML::Element* parent, const char* name) {
  for (Poco::XML::Node* n = parent->firstChild(); n; n = n->nextSibling())
    if (n->nodeType() == Poco::XML::Node::ELEMENT_NODE && n->localName() == name) return static_cast<Poco::XML::Element*>(n);
  return nullptr;
}

}  // namespace

std::string Write(const sheet::Table& table, const std::string& sheet_name) {
  std::string name;
  for (char c : sheet_name) name.push_back(std::string("[]:*?/\\").find(c) == std::string::npos ? c : '-');
  while (text::Length(name) > 31) {  // cut whole characters
    name.pop_back();
    while (!name.empty() && (static_cast<unsigned char>(name.back()) & 0xC0) == 0x80) name.pop_back();
    if (!name.empty() && static_cast<unsigned char>(name.back()) >= 0xC0) name.pop_back();
  }
  if (name.empty()) name = "Sheet1";
  std::ostringstream sheet;
  sheet << R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>)" << "\n<worksheet xmlns=\"" << kMain
        << "\"><sheetViews><sheetView workbookViewId=\"0\"><pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" "
           "state=\"frozen\"/></sheetView></sheetViews><sheetData>";
  auto row = [&](size_t r, const std::vector<sheet::Cell>& cells, bool header) {
    sheet << "<row r=\"" << r << "\">";
    for (size_t c = 0; c < cells.size(); ++c) {
      std::string ref = ColumnName(c) + std::to_string(r);
      if (cells[c].text.empty()) continue;
      if (cells[c].number) {
        sheet << "<c r=\"" << ref << "\"><v>" << Escape(cells[c].text) << "</v></c>";
      } else {
        sheet << "<c r=\"" << ref << "\" t=\"inlineStr\"" << (header ? " s=\"1\"" : "") << "><is><t xml:space=\"preserve\">"
              << Escape(cells[c].text) << "</t></is></c>";
      }
    }
    sheet << "</row>";
  };
  std::vector<sheet::Cell> header;
  for (const auto& h : table.header) header.push_back({h, false});
  row(1, header, true);
  for (size_t i = 0; i < table.rows.size(); ++i) row(i + 2, table.rows[i], false);
  sheet << "</sheetData></worksheet>";

  std::ostringstream out;
  Poco::Zip::Compress zip(out, true);
  Add(zip, "[Content_Types].xml",
      R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>)"
      R"(<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">)"
      R"(<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>)"
      R"(<Default Extension="xml" ContentType="application/xml"/>)"
      R"(<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>)"
      R"(<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>)"
      R"(<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>)"
      R"(</Types>)");
  Add(zip, "_rels/.rels",
      std::string(R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns=")") + kRels +
          R"("><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>)");
  Add(zip, "xl/workbook.xml",
      std::string(R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns=")") + kMain +
          "\" xmlns:r=\"" + kDocRels + "\"><sheets><sheet name=\"" + Escape(name) +
          "\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>");
  Add(zip, "xl/_rels/workbook.xml.rels",
      std::string(R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns=")") + kRels +
          R"("><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>)"
          R"(<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>)");
  Add(zip, "xl/styles.xml",
      std::string(R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns=")") + kMain +
          R"("><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>)"
          R"(<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>)"
          R"(<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>)"
          R"(<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>)"
          R"(<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>)"
          R"(<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>)"
          R"(</styleSheet>)");
  Add(zip, "xl/worksheets/sheet1.xml", sheet.str());
  zip.close();
  return out.str();
}

Status Read(const std::string& bytes, sheet::Table* out) {
  *out = sheet::Table();
  if (bytes.size() < 4 || bytes.compare(0, 4, "PK\x03\x04", 4) != 0)
    return Status::Invalid("the file is not an .xlsx workbook (save it from Excel as .xlsx, or as CSV UTF-8)");
  try {
    std::istringstream in(bytes);
    Poco::Zip::ZipArchive archive(in);
    bool found = false;
    // The first sheet: workbook.xml names it, its relationships give the part.
    std::string sheet_part = "xl/worksheets/sheet1.xml";
    std::string workbook = ReadPart(in, archive, "xl/workbook.xml", &found);
    if (!found) return Status::Invalid("the file is a zip archive but not an .xlsx workbook (no xl/workbook.xml)");
    std::string rels = ReadPart(in, archive, "xl/_rels/workbook.xml.rels", &found);
    if (found) {
      auto wb = Parse(workbook, "workbook.xml");
      Poco::AutoPtr<Poco::XML::NodeList> sheets = wb->getElementsByTagNameNS(kMain, "sheet");
      if (sheets->length() > 0) {
        std::string id = static_cast<Poco::XML::Element*>(sheets->item(0))->getAttributeNS(kDocRels, "id");
        auto rd = Parse(rels, "workbook.xml.rels");
        Poco::AutoPtr<Poco::XML::NodeList> list = rd->getElementsByTagNameNS(kRels, "Relationship");
        for (unsigned long i = 0; i < list->length(); ++i) {
          auto* r = static_cast<Poco::XML::Element*>(list->item(i));
          if (r->getAttribute("Id") != id) continue;
          std::string target = r->getAttribute("Target");
          sheet_part = target.rfind("/", 0) == 0 ? target.substr(1) : "xl/" + target;
        }
      }
    }
    std::vector<std::string> shared;
    std::string strings = ReadPart(in, archive, "xl/sharedStrings.xml", &found);
    if (found) {
      auto doc = Parse(strings, "sharedStrings.xml");
      Poco::AutoPtr<Poco::XML::NodeList> items = doc->getElementsByTagNameNS(kMain, "si");
      for (unsigned long i = 0; i < items->length(); ++i)
        shared.push_back(TextOf(static_cast<Poco::XML::Element*>(items->item(i))));
    }
    std::string sheet_xml = ReadPart(in, archive, sheet_part, &found);
    if (!found) return Status::Invalid("the workbook's first sheet (" + sheet_part + ") is missing");
    auto doc = Parse(sheet_xml, sheet_part);
    Poco::AutoPtr<Poco::XML::NodeList> rows = doc->getElementsByTagNameNS(kMain, "row");
    for (unsigned long i = 0; i < rows->length(); ++i) {
      auto* row = static_cast<Poco::XML::Element*>(rows->item(i));
      size_t line = row->hasAttribute("r") ? std::stoul(row->getAttribute("r")) : i + 1;
      std::vector<sheet::Cell> cells;
      bool any = false;
      for (Poco::XML::Node* n = row->firstChild(); n; n = n->nextSibling()) {
        if (n->nodeType() != Poco::XML::Node::ELEMENT_NODE || n->localName() != "c") continue;
        auto* c = static_cast<Poco::XML::Element*>(n);
        long col = c->hasAttribute("r") ? ColumnOf(c->getAttribute("r")) : static_cast<long>(cells.size());
        if (col < 0 || static_cast<size_t>(col) >= sheet::kMaxColumns)
          return Status::Invalid("row " + std::to_string(line) + ": a cell beyond column " + std::to_string(sheet::kMaxColumns));
        std::string type = c->getAttribute("t");
        sheet::Cell cell;
        Poco::XML::Element* v = FirstChild(c, "v");
        if (type == "s") {
          size_t k = v ? std::stoul(v->innerText()) : shared.size();
          if (k >= shared.size()) return Status::Invalid("row " + std::to_string(line) + ": a shared string that does not exist");
          cell.text = shared[k];
        } else if (type == "inlineStr") {
          if (Poco::XML::Element* is = FirstChild(c, "is")) cell.text = TextOf(is);
        } else if (type == "e") {
          return Status::Invalid("row " + std::to_string(line) + ", column " + ColumnName(static_cast<size_t>(col)) +
                                 ": the cell holds a spreadsheet error (" + (v ? v->innerText() : "") + ")");
        } else {
          cell.text = v ? v->innerText() : "";
          cell.number = type.empty() || type == "n";
        }
        if (cell.text.size() > sheet::kMaxCellBytes)
          return Status::Invalid("row " + std::to_string(line) + ": a cell longer than " + std::to_string(sheet::kMaxCellBytes) + " bytes");
        if (cells.size() <= static_cast<size_t>(col)) cells.resize(static_cast<size_t>(col) + 1);
        any = any || !cell.text.empty();
        cells[static_cast<size_t>(col)] = std::move(cell);
      }
      if (!any) continue;
      if (out->header.empty()) {
        for (auto& c : cells) out->header.push_back(c.text);
        continue;
      }
      if (out->rows.size() >= sheet::kMaxRows)
        return Status::Invalid("the sheet has more than " + std::to_string(sheet::kMaxRows) + " rows; split it");
      out->rows.push_back(std::move(cells));
      out->row_lines.push_back(line);
    }
  } catch (const Poco::Exception& e) {
    return Status::Invalid("the .xlsx workbook could not be read: " + e.displayText());
  } catch (const std::exception& e) {
    return Status::Invalid(std::string("the .xlsx workbook could not be read: ") + e.what());
  }
  if (out->header.empty()) return Status::Invalid("the workbook's first sheet is empty: no header row");
  return Status::Ok();
}

}  // namespace ocop::xlsx
