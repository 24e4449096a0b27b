// dns_sd_configs: A/AAAA through getaddrinfo (the system resolver: /etc/hosts, search domains),
// SRV/MX/NS through res_search (libresolv; /etc/resolv.conf and its search path).

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <sys/socket.h>

#include <map>
#include <set>

#include <fmt/format.h>

#include "scraper/discovery/discovery.h"

namespace hearth {
namespace {

struct Lookup {
  bool exists = true;  // false: the name does not exist (an empty group, not an error)
  std::vector<Labels> targets;
};

Result<Lookup> LookupAddresses(const std::string& name, int family, int port) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &res);
  Lookup out;
  if (rc == EAI_NONAME
#ifdef EAI_NODATA
      || rc == EAI_NODATA
#endif
#ifdef EAI_ADDRFAMILY
      || rc == EAI_ADDRFAMILY
#endif
  ) {
    out.exists = false;
    return out;
  }
  if (rc != 0) {
    return Errorf(StatusCode::kUnavailable, "lookup {}: {}", name, ::gai_strerror(rc));
  }
  std::set<std::string> seen;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (ai->ai_family == AF_INET) {
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr, buf, sizeof buf);
    } else if (ai->ai_family == AF_INET6) {
      ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr, buf,
                  sizeof buf);
    } else {
      continue;
    }
    if (!seen.insert(buf).second) continue;
    out.targets.push_back(Labels{{"__address__", JoinHostPort(buf, port)},
                                 {"__meta_dns_name", name}});
  }
  ::freeaddrinfo(res);
  return out;
}

// SRV, MX and NS answers through res_search.
Result<Lookup> LookupRecords(const std::string& name, DnsRecordType type, int port) {
  const int qtype = type == DnsRecordType::kSrv  ? ns_t_srv
                    : type == DnsRecordType::kMx ? ns_t_mx
                                                 : ns_t_ns;
  struct __res_state state {};
  if (::res_ninit(&state) != 0) return Errorf(StatusCode::kUnavailable, "res_ninit failed");
  std::vector<unsigned char> answer(65536);
  int len = ::res_nsearch(&state, name.c_str(), ns_c_in, qtype, answer.data(),
                          static_cast<int>(answer.size()));
  const int herr = state.res_h_errno;
  Lookup out;
  if (len < 0) {
    ::res_nclose(&state);
    if (herr == HOST_NOT_FOUND || herr == NO_DATA) {
      out.exists = false;
      return out;
    }
    return Errorf(StatusCode::kUnavailable, "lookup {} {}: {}", DnsRecordTypeName(type), name,
                  ::hstrerror(herr));
  }
  ns_msg msg;
  if (::ns_initparse(answer.data(), len, &msg) != 0) {
    ::res_nclose(&state);
    return Errorf(StatusCode::kUnavailable, "lookup {}: malformed DNS answer", name);
  }
  const int count = ns_msg_count(msg, ns_s_an);
  for (int i = 0; i < count; ++i) {
    ns_rr rr;
    if (::ns_parserr(&msg, ns_s_an, i, &rr) != 0) continue;
    if (ns_rr_type(rr) != qtype) continue;
    const unsigned char* rdata = ns_rr_rdata(rr);
    char host[NS_MAXDNAME] = {};
    int record_port = port;
    const unsigned char* name_at = rdata;
    if (type == DnsRecordType::kSrv) {
      if (ns_rr_rdlen(rr) < 6) continue;
      record_port = (rdata[4] << 8) | rdata[5];
      name_at = rdata + 6;
    } else if (type == DnsRecordType::kMx) {
      if (ns_rr_rdlen(rr) < 2) continue;
      name_at = rdata + 2;
    }
    if (::dn_expand(ns_msg_base(msg), ns_msg_end(msg), name_at, host, sizeof host) < 0) continue;
    std::string target = host;  // without the final dot
    const std::string rooted = target + ".";
    LabelsBuilder lb;
    lb.Set("__address__", JoinHostPort(target, record_port));
    lb.Set("__meta_dns_name", name);
    if (type == DnsRecordType::kSrv) {
      lb.Set("__meta_dns_srv_record_target", rooted);
      lb.Set("__meta_dns_srv_record_port", std::to_string(record_port));
    } else if (type == DnsRecordType::kMx) {
      lb.Set("__meta_dns_mx_record_target", rooted);
    } else {
      lb.Set("__meta_dns_ns_record_target", rooted);
    }
    out.targets.push_back(lb.Build());
  }
  ::res_nclose(&state);
  return out;
}

class DnsDiscoverer final : public Discoverer {
 public:
  DnsDiscoverer(DnsSdConfig cfg, Logger logger)
      : cfg_(std::move(cfg)), logger_(logger.With({{"discovery", "dns"}})) {}

  std::string_view kind() const override { return "dns"; }
  int64_t NextRefreshDelayMs() const override { return std::max<int64_t>(1, cfg_.refresh_interval_ms); }

  Result<std::vector<TargetGroup>> Refresh() override {
    Status last_error;
    for (const std::string& name : cfg_.names) {
      Result<Lookup> r = Lookup1(name);
      if (!r.ok()) {
        // As Prometheus: log, and keep the group this name had.
        logger_.Error("Error refreshing DNS targets", {{"err", r.status().message()}});
        last_error = r.status();
        continue;
      }
      TargetGroup g;
      g.source = name;
      g.targets = std::move(r->targets);
      groups_[name] = std::move(g);
    }
    std::vector<TargetGroup> out;
    for (const std::string& name : cfg_.names) {
      auto it = groups_.find(name);
      if (it != groups_.end()) out.push_back(it->second);
    }
    if (out.empty() && !last_error.ok()) return last_error;
    return out;
  }

 private:
  Result<Lookup> Lookup1(const std::string& name) const {
    switch (cfg_.type) {
      case DnsRecordType::kA:
        return LookupAddresses(name, AF_INET, cfg_.port);
      case DnsRecordType::kAaaa:
        return LookupAddresses(name, AF_INET6, cfg_.port);
      case DnsRecordType::kSrv:
      case DnsRecordType::kMx:
      case DnsRecordType::kNs:
        return LookupRecords(name, cfg_.type, cfg_.port);
    }
    return Lookup{};
  }

  DnsSdConfig cfg_;
  Logger logger_;
  std::map<std::string, TargetGroup> groups_;
};

}  // namespace

std::unique_ptr<Discoverer> NewDnsDiscovererImpl(DnsSdConfig cfg, Logger logger) {
  return std::make_unique<DnsDiscoverer>(std::move(cfg), logger);
}

}  // namespace hearth
