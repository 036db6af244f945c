// Records from a spreadsheet into this device's store (`ocop import`): the
// table is read as shared/sheet_import.h says, each row checked as `ocop new`
// checks a form, and nothing stored unless every row is good (or the bad ones
// are skipped on request).
#pragma once
#include <string>

#include "client/local_store.h"
#include "shared/sheet_import.h"

namespace ocop::client {

using sheet::ImportOptions;
using sheet::ImportProblem;
using sheet::ImportSummary;
using sheet::ReadSheet;

Status ImportRecords(LocalStore& store, const std::string& form, const sheet::Table& table, const ImportOptions& options,
                     ImportSummary* out);

}  // namespace ocop::client
