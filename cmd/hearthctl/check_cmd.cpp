#include "cmd/hearthctl/check_cmd.h"

#include <glob.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "config/load.h"
#include "config/target_groups.h"
#include "model/strutil.h"
#include "query/parser/parser.h"
#include "rules/manager.h"

namespace hearth::ctl {
namespace {

constexpr int kSuccess = 0;
constexpr int kFailure = 1;
constexpr int kLintFailure = 3;

struct CheckFlags {
  bool syntax_only = false;
  bool lint_duplicates = true;  // --lint=duplicate-rules (the default) or all
  bool lint_fatal = false;
  bool agent = false;
  std::vector<std::string> files;
};

// kingpin-like flag parsing for the two subcommands. Returns false after printing an error.
bool ParseFlags(const std::vector<std::string>& args, bool config_cmd, const CheckIo& io,
                CheckFlags* f) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() < 2 || a[0] != '-') {
      f->files.push_back(a);
      continue;
    }
    std::string name = a, value;
    bool has_value = false;
    if (size_t eq = a.find('='); eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      has_value = true;
    }
    if (name == "--lint") {
      if (!has_value) {
        if (i + 1 >= args.size()) {
          std::fprintf(io.err, "hearthctl: error: expected argument for flag '--lint'\n");
          return false;
        }
        value = args[++i];
      }
      if (value == "none") {
        f->lint_duplicates = false;
      } else if (value == "all" || value == "duplicate-rules") {
        f->lint_duplicates = true;
      } else {
        std::fprintf(io.err, "hearthctl: error: unknown lint option %s, try --help\n",
                     value.c_str());
        return false;
      }
    } else if (name == "--lint-fatal" && !has_value) {
      f->lint_fatal = true;
    } else if (config_cmd && name == "--syntax-only" && !has_value) {
      f->syntax_only = true;
    } else if (config_cmd && name == "--agent" && !has_value) {
      f->agent = true;
    } else if (config_cmd && name == "--extended" && !has_value) {
      // Cardinality statistics of the targets are not implemented; accepted for scripts.
    } else {
      std::fprintf(io.err, "hearthctl: error: unknown long flag '%s', try --help\n",
                   name.c_str());
      return false;
    }
  }
  if (f->files.empty()) {
    std::fprintf(io.err, "hearthctl: error: required argument '%s' not provided, try --help\n",
                 config_cmd ? "config-files" : "rule-files");
    return false;
  }
  for (const std::string& file : f->files) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) {
      std::fprintf(io.err, "hearthctl: error: path '%s' does not exist, try --help\n",
                   file.c_str());
      return false;
    }
  }
  return true;
}

Status FileExists(const std::string& path) {
  if (path.empty()) return Status::Ok();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return InvalidArgument("stat {}: {}", path, std::strerror(errno));
  }
  return Status::Ok();
}

std::vector<std::string> Glob(const std::string& pattern) {
  glob_t g{};
  std::vector<std::string> out;
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  return out;
}

Status CheckTls(const TlsConfig& tls) {
  if (Status st = FileExists(tls.cert_file); !st.ok()) {
    return InvalidArgument("error checking client cert file {}: {}", QuoteGo(tls.cert_file),
                           st.message());
  }
  if (Status st = FileExists(tls.key_file); !st.ok()) {
    return InvalidArgument("error checking client key file {}: {}", QuoteGo(tls.key_file),
                           st.message());
  }
  return Status::Ok();
}

Status CheckSdFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("open {}: {}", path, std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string ext = ToLowerAscii(path.substr(path.rfind('.') + 1));
  if (ext != "json" && ext != "yml" && ext != "yaml") {
    return InvalidArgument("invalid file extension: {}", QuoteGo(ext));
  }
  auto groups = ParseTargetGroups(
      ss.str(), ext == "json" ? TargetGroupFormat::kJson : TargetGroupFormat::kYaml, "");
  if (!groups.ok()) return groups.status();
  return Status::Ok();
}

// promtool's checkConfig: load, then (unless syntax-only) the files the config points to.
Result<std::vector<std::string>> CheckConfigFile(const std::string& file, const CheckFlags& f,
                                                 const CheckIo& io) {
  auto cfg = LoadConfigFile(file);
  if (!cfg.ok()) return cfg.status();
  if (f.agent) {
    if (!cfg->alerting.alertmanagers.empty() || !cfg->alerting.alert_relabel_configs.empty()) {
      return InvalidArgument("field alerting is not allowed in agent mode");
    }
    if (!cfg->rule_files.empty()) return InvalidArgument("field rule_files is not allowed in agent mode");
    if (!cfg->remote_read.empty()) return InvalidArgument("field remote_read is not allowed in agent mode");
  }
  std::vector<std::string> rule_files;
  if (f.syntax_only) return rule_files;
  for (const std::string& pattern : cfg->rule_files) {
    std::vector<std::string> matches = Glob(pattern);
    if (pattern.find('*') == std::string::npos) {
      if (matches.empty()) {
        return InvalidArgument("{} does not point to an existing file", QuoteGo(pattern));
      }
    }
    rule_files.insert(rule_files.end(), matches.begin(), matches.end());
  }
  for (const ScrapeConfig& sc : cfg->scrape_configs) {
    if (sc.http_client.authorization) {
      const std::string& cred = sc.http_client.authorization->credentials_file;
      if (Status st = FileExists(cred); !st.ok()) {
        return InvalidArgument("error checking authorization credentials or bearer token file {}: {}",
                               QuoteGo(cred), st.message());
      }
    }
    HEARTH_RETURN_IF_ERROR(CheckTls(sc.http_client.tls_config));
    for (const FileSdConfig& fsd : sc.service_discovery.file_sd_configs) {
      for (const std::string& pattern : fsd.files) {
        std::vector<std::string> matches = Glob(pattern);
        if (matches.empty()) {
          std::fprintf(io.out, "  WARNING: file %s for file_sd in scrape job %s does not exist\n",
                       QuoteGo(pattern).c_str(), QuoteGo(sc.job_name).c_str());
          continue;
        }
        for (const std::string& m : matches) {
          if (Status st = CheckSdFile(m); !st.ok()) {
            return InvalidArgument("checking SD file {}: {}", QuoteGo(m), st.message());
          }
        }
      }
    }
  }
  for (const AlertmanagerConfig& am : cfg->alerting.alertmanagers) {
    HEARTH_RETURN_IF_ERROR(CheckTls(am.http_client.tls_config));
  }
  return rule_files;
}

// Checks rule files; returns {failed, has_errors (not only lint)}.
std::pair<bool, bool> CheckRuleFiles(const std::vector<std::string>& files, const CheckFlags& f,
                                     const CheckIo& io, std::string_view indent) {
  bool failed = false, has_errors = false;
  for (const std::string& file : files) {
    std::fprintf(io.out, "Checking %s\n", file.c_str());
    std::fflush(io.out);
    RuleParseResult r = LoadRuleFile(file, io.validate_expr);
    std::vector<std::string> errors;
    bool lint_only = false;
    for (const std::string& e : r.errors) errors.push_back(fmt::format("{}{}: {}", indent, file, e));
    if (errors.empty()) {
      // Alert label and annotation templates, as the server parses them at load time.
      for (const std::string& e : rules::CheckRuleTemplates(r.file)) {
        errors.push_back(fmt::format("{}{}: {}", indent, file, e));
      }
    }
    if (errors.empty() && f.lint_duplicates) {
      std::vector<DuplicateRule> dups = FindDuplicateRules(r.file);
      if (!dups.empty()) {
        std::string msg = fmt::format("lint error {} duplicate rule(s) found.\n", dups.size());
        for (const DuplicateRule& d : dups) {
          msg += fmt::format("Metric: {}\nLabel(s):\n", d.metric);
          for (const auto& [k, v] : d.labels) msg += fmt::format("\t{}: {}\n", k, v);
        }
        msg += "Might cause inconsistency while recording expressions";
        errors.push_back(msg);
        lint_only = true;
      }
    }
    if (!errors.empty()) {
      std::fprintf(io.err, "  FAILED:\n");
      for (const std::string& e : errors) std::fprintf(io.err, "%s\n", e.c_str());
      std::fflush(io.err);
      failed = true;
      has_errors = has_errors || !lint_only;
    } else {
      size_t n = 0;
      for (const auto& g : r.file.groups) n += g.rules.size();
      std::fprintf(io.out, "  SUCCESS: %zu rules found\n", n);
    }
    std::fprintf(io.out, "\n");
    std::fflush(io.out);
  }
  return {failed, has_errors};
}

int ExitCode(bool failed, bool has_errors, const CheckFlags& f) {
  if (failed && has_errors) return kFailure;
  if (failed && f.lint_fatal) return kLintFailure;
  return kSuccess;
}

}  // namespace

RuleExprValidator DefaultExprValidator() {
  return [](std::string_view expr) { return promql::ParseExpr(expr).status(); };
}

int RunCheckConfig(const std::vector<std::string>& args, const CheckIo& io) {
  CheckFlags f;
  if (!ParseFlags(args, /*config_cmd=*/true, io, &f)) return kFailure;
  bool failed = false, has_errors = false;
  for (const std::string& file : f.files) {
    std::fprintf(io.out, "Checking %s\n", file.c_str());
    std::fflush(io.out);
    auto rule_files = CheckConfigFile(file, f, io);
    if (!rule_files.ok()) {
      std::fprintf(io.err, "  FAILED: %s\n", rule_files.status().message().c_str());
      std::fflush(io.err);
      failed = has_errors = true;
    } else {
      if (!rule_files->empty()) {
        std::fprintf(io.out, "  SUCCESS: %zu rule files found\n", rule_files->size());
      }
      std::fprintf(io.out, " SUCCESS: %s is valid prometheus config file syntax\n", file.c_str());
    }
    std::fprintf(io.out, "\n");
    std::fflush(io.out);
    if (rule_files.ok()) {
      auto [rf, re] = CheckRuleFiles(*rule_files, f, io, "     ");
      failed = failed || rf;
      has_errors = has_errors || re;
    }
  }
  return ExitCode(failed, has_errors, f);
}

int RunCheckRules(const std::vector<std::string>& args, const CheckIo& io) {
  CheckFlags f;
  if (!ParseFlags(args, /*config_cmd=*/false, io, &f)) return kFailure;
  auto [failed, has_errors] = CheckRuleFiles(f.files, f, io, "");
  return ExitCode(failed, has_errors, f);
}

}  // namespace hearth::ctl
