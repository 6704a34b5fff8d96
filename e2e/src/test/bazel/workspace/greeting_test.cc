#include "greeting.h"

int main() { return Greeting("bazel") == "hello, bazel" ? 0 : 1; }
