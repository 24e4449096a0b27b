// Chunk codec: encode and decode speed, and bytes per sample on realistic scrape data
// (benchmarks/tsdb_datagen.h), with aligned timestamps and with ±3 ms jitter.
//
//   ./build/benchmarks/bench_tsdb_chunk --benchmark_min_time=0.2
//
// Counters: bytes_per_sample is the chunk bytes (header included) over samples, for chunks as
// the head writes them ("head": parameters guessed from the first value) and as sealed
// ("sealed": parameters chosen per chunk). samples/s is items_per_second.
#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

#include "benchmarks/tsdb_datagen.h"
#include "model/sample.h"
#include "tsdb/chunk/float_chunk.h"

namespace {

using namespace hearth;
using namespace hearth::tsdb::chunk;

constexpr int kSamplesPerChunk = 240;

struct Corpus {
  std::vector<std::vector<Sample>> series;  // one chunk's worth per series
  std::vector<bench::Kind> kinds;
  size_t samples = 0;
};

// 1000 series x 240 scrapes (one hour at 15 s): one full chunk per series.
const Corpus& GetCorpus(int jitter_ms) {
  static std::map<int, Corpus> cache;
  auto it = cache.find(jitter_ms);
  if (it != cache.end()) return it->second;
  Corpus& c = cache[jitter_ms];
  bench::ScrapeGen gen(1000, 1, 15000, jitter_ms);
  c.series.resize(gen.size());
  for (const auto& s : gen.series()) c.kinds.push_back(s.kind);
  std::vector<double> values;
  for (int i = 0; i < kSamplesPerChunk; ++i) {
    int64_t t = gen.Next(&values);
    for (size_t s = 0; s < values.size(); ++s) c.series[s].push_back({t, values[s]});
  }
  c.samples = gen.size() * kSamplesPerChunk;
  return c;
}

void BM_ChunkEncodeHead(benchmark::State& state) {
  const Corpus& c = GetCorpus(static_cast<int>(state.range(0)));
  size_t bytes = 0;
  for (auto _ : state) {
    bytes = 0;
    for (const auto& s : c.series) {
      FloatEncoder e(GuessParams(s[0].v));
      for (const Sample& x : s) e.Append(x.t, x.v);
      bytes += e.ByteSize();
      benchmark::DoNotOptimize(e);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * c.samples));
  state.counters["bytes_per_sample"] = static_cast<double>(bytes) / static_cast<double>(c.samples);
}
BENCHMARK(BM_ChunkEncodeHead)->Arg(0)->Arg(3)->ArgName("jitter_ms");

void BM_ChunkEncodeSealed(benchmark::State& state) {
  const Corpus& c = GetCorpus(static_cast<int>(state.range(0)));
  size_t bytes = 0;
  for (auto _ : state) {
    bytes = 0;
    for (const auto& s : c.series) bytes += EncodeFloatChunkBest(s, GuessParams(s[0].v)).size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * c.samples));
  state.counters["bytes_per_sample"] = static_cast<double>(bytes) / static_cast<double>(c.samples);
}
BENCHMARK(BM_ChunkEncodeSealed)->Arg(0)->Arg(3)->ArgName("jitter_ms");

void BM_ChunkDecode(benchmark::State& state) {
  const Corpus& c = GetCorpus(static_cast<int>(state.range(0)));
  std::vector<std::string> chunks;
  for (const auto& s : c.series) chunks.push_back(EncodeFloatChunkBest(s, GuessParams(s[0].v)));
  std::vector<Sample> buf(kSamplesPerChunk);
  double sum = 0;
  for (auto _ : state) {
    for (const auto& ch : chunks) {
      FloatDecoder d;
      (void)d.Init(ch);
      size_t n = d.NextBatch(buf.data(), buf.size());
      sum += static_cast<double>(buf[n - 1].t);
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * c.samples));
}
BENCHMARK(BM_ChunkDecode)->Arg(0)->Arg(3)->ArgName("jitter_ms");

// Bytes per sample of sealed chunks by kind of series (aligned timestamps).
void BM_ChunkBytesByKind(benchmark::State& state) {
  const Corpus& c = GetCorpus(static_cast<int>(state.range(1)));
  const auto kind = static_cast<bench::Kind>(state.range(0));
  size_t bytes = 0, samples = 0;
  for (auto _ : state) {
    bytes = samples = 0;
    for (size_t i = 0; i < c.series.size(); ++i) {
      if (c.kinds[i] != kind) continue;
      bytes += EncodeFloatChunkBest(c.series[i], GuessParams(c.series[i][0].v)).size();
      samples += c.series[i].size();
    }
  }
  state.counters["bytes_per_sample"] = static_cast<double>(bytes) / static_cast<double>(samples);
  state.counters["share_of_series"] =
      static_cast<double>(samples) / static_cast<double>(c.samples);
}
BENCHMARK(BM_ChunkBytesByKind)
    ->ArgsProduct({{0, 1, 2, 3, 4, 5, 6, 7, 8}, {0, 3}})
    ->ArgNames({"kind", "jitter_ms"});

}  // namespace

BENCHMARK_MAIN();
