#pragma once

// The API's RulesRetriever over the rule manager and AlertmanagerRetriever over the notifier
// (rules/manager.h, rules/notifier.h): their snapshots converted to the API's plain structs.
//
// Thread-safety: as the manager's and notifier's read calls: any thread.

#include <memory>

#include "rules/manager.h"
#include "rules/notifier.h"
#include "web/api_sources.h"

namespace hearth::web {

// `manager` must outlive the result.
std::unique_ptr<RulesRetriever> NewRulesRetriever(const rules::Manager& manager);

// `notifier` must outlive the result.
std::unique_ptr<AlertmanagerRetriever> NewAlertmanagerRetriever(const rules::Notifier& notifier);

}  // namespace hearth::web
