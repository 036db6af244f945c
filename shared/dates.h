// Dates: accepted as dd/mm/yyyy (how officers write them) or ISO yyyy-mm-dd;
// stored ISO; shown dd/mm/yyyy. Pure functions, thread-safe.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace ocop::dates {

// ISO form of a valid calendar date given in either form, or nullopt.
std::optional<std::string> ParseDate(std::string_view in);
// dd/mm/yyyy form of an ISO date; returns the input unchanged if it is not one.
std::string ToDisplay(std::string_view iso);
// Days between two ISO dates (b - a). REQUIRES: both valid ISO dates.
long DaysBetween(std::string_view a_iso, std::string_view b_iso);
// The ISO date `days` after (or before, if negative) an ISO date. REQUIRES: valid ISO date.
std::string AddDays(std::string_view iso, long days);
// The same day `months` later (or earlier), clamped to the month's last day
// (31/01 + 1 month = 28/02 or 29/02). REQUIRES: valid ISO date.
std::string AddMonths(std::string_view iso, int months);
// Today's date in UTC+7 (Vietnam) as ISO, given a UNIX time in milliseconds.
std::string IsoDateFromMillis(long long unix_ms);
// yyyy-mm-ddThh:mm:ss.mmmZ for a UNIX time in milliseconds.
std::string IsoTimestamp(long long unix_ms);
// "dd/mm/yyyy hh:mm" in Vietnam's time for a UTC timestamp as IsoTimestamp
// writes it; the input unchanged if it is not one ("" stays "").
std::string TimestampToDisplay(std::string_view iso_utc);

}  // namespace ocop::dates
