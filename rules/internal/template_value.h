#pragma once

// The dynamic values a template works on, modelled on the Go types Prometheus' templates see:
// float64, int, string, bool, map[string]string (labels), map[string]interface{} (args),
// queryResult ([]*sample), *sample, *time.Time, the alert data struct, and nil.
//
// Internal to rules/: the public surface is rules/template.h.
//
// Thread-safety: Values are immutable once built (composites are shared_ptr<const>), so they may
// be shared across threads.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hearth::rules::tmpl {

enum class Kind {
  kNil,        // an absent value (Go's invalid reflect.Value / nil interface)
  kBool,
  kInt,        // Go int
  kFloat,      // float64
  kString,
  kStringMap,  // map[string]string
  kMap,        // map[string]interface{}
  kSlice,      // queryResult or []interface{}
  kStruct,     // *sample, the alert data struct
  kTime,       // *time.Time (milliseconds since the epoch, UTC)
};

struct Value;
using StringMap = std::map<std::string, std::string>;
using AnyMap = std::map<std::string, Value>;

struct StructData;
struct SliceData;

struct Value {
  Kind kind = Kind::kNil;
  bool b = false;
  int64_t i = 0;  // kInt, and milliseconds for kTime
  double f = 0;
  std::string s;
  std::shared_ptr<const StringMap> smap;
  std::shared_ptr<const AnyMap> map;
  std::shared_ptr<const SliceData> slice;
  std::shared_ptr<const StructData> st;

  static Value Nil() { return {}; }
  static Value Bool(bool v) {
    Value x;
    x.kind = Kind::kBool;
    x.b = v;
    return x;
  }
  static Value Int(int64_t v) {
    Value x;
    x.kind = Kind::kInt;
    x.i = v;
    return x;
  }
  static Value Float(double v) {
    Value x;
    x.kind = Kind::kFloat;
    x.f = v;
    return x;
  }
  static Value String(std::string v) {
    Value x;
    x.kind = Kind::kString;
    x.s = std::move(v);
    return x;
  }
  static Value Strings(std::shared_ptr<const StringMap> m) {
    Value x;
    x.kind = Kind::kStringMap;
    x.smap = std::move(m);
    return x;
  }
  static Value Map(std::shared_ptr<const AnyMap> m) {
    Value x;
    x.kind = Kind::kMap;
    x.map = std::move(m);
    return x;
  }
  static Value Slice(std::shared_ptr<const SliceData> s) {
    Value x;
    x.kind = Kind::kSlice;
    x.slice = std::move(s);
    return x;
  }
  static Value Struct(std::shared_ptr<const StructData> s) {
    Value x;
    x.kind = Kind::kStruct;
    x.st = std::move(s);
    return x;
  }
  static Value Time(int64_t ms) {
    Value x;
    x.kind = Kind::kTime;
    x.i = ms;
    return x;
  }
};

struct StructData {
  std::string type_name;  // Go's %T: "*template.sample", "struct { ... }"
  bool pointer = false;   // printed as &{...}
  std::vector<std::pair<std::string, Value>> fields;
};

struct SliceData {
  std::string type_name;  // "template.queryResult", "[]interface {}"
  std::vector<Value> items;
};

// Go's %T of the value: "float64", "int", "string", "map[string]string", ...
std::string TypeName(const Value& v);

// Go's truth (text/template's IsTrue): false, 0, "", nil and empty maps/slices are false.
bool IsTrue(const Value& v);

// fmt.Sprint of one value (%v): floats in Go's shortest 'g', maps as map[k:v ...] with sorted
// keys, *sample as &{map[...] 1}, times as Go's time.String(), nil as <nil>.
void AppendPrint(std::string* out, const Value& v);

// Go's time.Time.String() in UTC for a millisecond timestamp: "2015-06-23 13:19:44.128 +0000 UTC".
std::string GoTimeString(int64_t ms);

// fmt.Sprintf with Go's verbs, flags, width and precision, including Go's error forms
// ("%!d(float64=1.5)", "%!s(MISSING)", "%!(EXTRA int=1)").
std::string GoSprintf(std::string_view format, const std::vector<Value>& args);
// fmt.Sprint: operands separated by a space when neither side is a string.
std::string GoSprint(const std::vector<Value>& args);
// fmt.Sprintln: operands always separated by spaces, newline appended.
std::string GoSprintln(const std::vector<Value>& args);

// strconv.FormatFloat(v, verb, prec, 64) for verb in e, E, f, g, G (prec -1: shortest), with
// Go's "+Inf", "-Inf", "NaN".
std::string GoFormatFloat(double v, char verb, int prec);

}  // namespace hearth::rules::tmpl
