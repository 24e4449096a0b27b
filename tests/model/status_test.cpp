#include <catch2/catch.hpp>

#include "model/status.h"

using namespace hearth;

namespace {
Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("{} is odd", x);
  return x / 2;
}
Result<int> Quarter(int x) {
  HEARTH_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}
Status Check(int x) {
  HEARTH_RETURN_IF_ERROR(Quarter(x).status());
  return Status::Ok();
}
}  // namespace

TEST_CASE("results carry values or errors", "[model][status]") {
  CHECK(*Quarter(8) == 2);
  auto r = Quarter(6);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(r.status().message() == "3 is odd");
  CHECK(Check(8).ok());
  CHECK(Check(2).message() == "1 is odd");
  CHECK(Check(2).WithPrefix("checking").message() == "checking: 1 is odd");
  CHECK(Check(2).ToString() == "invalid argument: 1 is odd");
}
