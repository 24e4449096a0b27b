#pragma once

// The configuration `hearth` runs with when no --config.file is given and ./prometheus.yml does
// not exist: Prometheus' example configuration, scraping Hearth's own /metrics every 15 s.

namespace hearth {

inline constexpr const char* kDefaultConfigYaml = R"(# Hearth's embedded default configuration (Prometheus' example configuration).
global:
  scrape_interval: 15s # Set the scrape interval to every 15 seconds. Default is every 1 minute.
  evaluation_interval: 15s # Evaluate rules every 15 seconds. The default is every 1 minute.

# Alertmanager configuration
alerting:
  alertmanagers:
    - static_configs:
        - targets:
          # - alertmanager:9093

# Load rules once and periodically evaluate them according to the global 'evaluation_interval'.
rule_files:
  # - "first_rules.yml"
  # - "second_rules.yml"

# A scrape configuration containing exactly one endpoint to scrape:
# Here it's Hearth itself.
scrape_configs:
  - job_name: "prometheus"
    static_configs:
      - targets: ["localhost:9090"]
)";

}  // namespace hearth
