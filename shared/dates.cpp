#include "shared/dates.h"

#include <cstdio>
#include <cstdlib>

namespace ocop::dates {

namespace {
bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int DaysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}
bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}
int ToInt(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}
// Days since 1970-01-01 (proleptic Gregorian), Howard Hinnant's algorithm.
long DaysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const long era = (y >= 0 ? y : y - 399) / 400;
  const long yoe = y - era * 400;
  const long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}
void CivilFromDays(long z, int* y, int* m, int* d) {
  z += 719468;
  const long era = (z >= 0 ? z : z - 146096) / 146097;
  const long doe = z - era * 146097;
  const long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const long mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = static_cast<int>(yoe + era * 400 + (*m <= 2));
}
std::string Format(int y, int m, int d) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  return buf;
}
}  // namespace

std::optional<std::string> ParseDate(std::string_view in) {
  int y, m, d;
  if (in.size() == 10 && in[4] == '-' && in[7] == '-') {
    auto ys = in.substr(0, 4), ms = in.substr(5, 2), ds = in.substr(8, 2);
    if (!AllDigits(ys) || !AllDigits(ms) || !AllDigits(ds)) return std::nullopt;
    y = ToInt(ys), m = ToInt(ms), d = ToInt(ds);
  } else {
    // d/m/yyyy with one- or two-digit day and month.
    auto p1 = in.find('/');
    if (p1 == std::string_view::npos) return std::nullopt;
    auto p2 = in.find('/', p1 + 1);
    if (p2 == std::string_view::npos) return std::nullopt;
    auto ds = in.substr(0, p1), ms = in.substr(p1 + 1, p2 - p1 - 1), ys = in.substr(p2 + 1);
    if (ds.size() > 2 || ms.size() > 2 || ys.size() != 4) return std::nullopt;
    if (!AllDigits(ys) || !AllDigits(ms) || !AllDigits(ds)) return std::nullopt;
    y = ToInt(ys), m = ToInt(ms), d = ToInt(ds);
  }
  if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1 || d > DaysInMonth(y, m))
    return std::nullopt;
  return Format(y, m, d);
}

std::string ToDisplay(std::string_view iso) {
  if (iso.size() != 10 || iso[4] != '-' || iso[7] != '-') return std::string(iso);
  std::string out;
  out.append(iso.substr(8, 2)).append("/").append(iso.substr(5, 2)).append("/").append(iso.substr(0, 4));
  return out;
}

long DaysBetween(std::string_view a, std::string_view b) {
  auto days = [](std::string_view s) {
    return DaysFromCivil(ToInt(s.substr(0, 4)), ToInt(s.substr(5, 2)), ToInt(s.substr(8, 2)));
  };
  return days(b) - days(a);
}

std::string IsoDateFromMillis(long long unix_ms) {
  long long secs = unix_ms / 1000 + 7 * 3600;
  long day = static_cast<long>(secs >= 0 ? secs / 86400 : (secs - 86399) / 86400);
  int y, m, d;
  CivilFromDays(day, &y, &m, &d);
  return Format(y, m, d);
}

std::string IsoTimestamp(long long unix_ms) {
  long long secs = unix_ms / 1000;
  long day = static_cast<long>(secs / 86400);
  long rem = static_cast<long>(secs % 86400);
  int y, m, d;
  CivilFromDays(day, &y, &m, &d);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02ld:%02ld:%02ld.%03lldZ", y, m, d, rem / 3600,
                (rem / 60) % 60, rem % 60, unix_ms % 1000);
  return buf;
}

std::string AddDays(std::string_view iso, long days) {
  // Days since 1970 via DaysBetween, then back through milliseconds (noon UTC
  // keeps the UTC+7 conversion on the same day).
  long d = DaysBetween("1970-01-01", iso) + days;
  return IsoDateFromMillis(static_cast<long long>(d) * 86400000LL + 12LL * 3600000LL - 7LL * 3600000LL);
}

std::string TimestampToDisplay(std::string_view ts) {
  // yyyy-mm-ddThh:mm[:ss[.mmm]]Z
  if (ts.size() < 17 || ts.back() != 'Z' || ts[10] != 'T' || ts[13] != ':' || !ParseDate(ts.substr(0, 10)))
    return std::string(ts);
  int h = std::atoi(std::string(ts.substr(11, 2)).c_str()), m = std::atoi(std::string(ts.substr(14, 2)).c_str());
  if (h > 23 || m > 59) return std::string(ts);
  long long ms = static_cast<long long>(DaysBetween("1970-01-01", ts.substr(0, 10))) * 86400000LL +
                 (h * 60LL + m) * 60000LL;
  std::string day = IsoDateFromMillis(ms);  // Vietnam's date (UTC+7)
  int local = (h * 60 + m + 7 * 60) % (24 * 60);
  char hm[16];
  std::snprintf(hm, sizeof hm, " %02d:%02d", local / 60, local % 60);
  return ToDisplay(day) + hm;
}

std::string AddMonths(std::string_view iso, int months) {
  int y = std::atoi(std::string(iso.substr(0, 4)).c_str());
  int m = std::atoi(std::string(iso.substr(5, 2)).c_str());
  int d = std::atoi(std::string(iso.substr(8, 2)).c_str());
  int index = y * 12 + (m - 1) + months;
  y = index / 12;
  m = index % 12 + 1;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  int last = kDays[m - 1] + (m == 2 && leap ? 1 : 0);
  if (d > last) d = last;
  char out[40];
  std::snprintf(out, sizeof out, "%04d-%02d-%02d", y, m, d);
  return out;
}

}  // namespace ocop::dates
