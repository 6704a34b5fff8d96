package build.rex.bench.build;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a Bazel workspace of a few hundred remote actions of the kinds real builds have: C++
 * compiles and links, cc and sh tests, genrule chains that hash and concatenate, and one 48 MiB
 * output. Every action reads the salt (a header every source includes, a file every genrule and
 * test takes), so {@link #salt} with a new value makes every action's key new: a truly cold build.
 */
public final class WorkspaceGenerator {
  static final int LIBRARIES = 24;
  static final int BINARIES = 8;
  static final int CC_TESTS = 8;
  static final int CHAINS = 8;
  static final int CHAIN_LENGTH = 10;
  static final int SH_TESTS = 20;
  /** Above the 4 MiB of a batch call, so it travels through ByteStream both ways. */
  static final long LARGE_OUTPUT_BYTES = 48L << 20;

  private WorkspaceGenerator() {}

  public static void write(Path root, String salt) throws IOException {
    Files.createDirectories(root);
    Files.writeString(root.resolve("WORKSPACE"), "workspace(name = \"rex_bench\")\n");
    StringBuilder build = new StringBuilder("exports_files([\"salt.txt\"])\n\n");
    build.append("cc_library(name = \"salt\", hdrs = [\"salt.h\"])\n\n");
    for (int i = 0; i < LIBRARIES; i++) {
      library(root, build, i);
    }
    for (int i = 0; i < BINARIES; i++) {
      program(root, build, "cc_binary", "tool" + i, i);
    }
    for (int i = 0; i < CC_TESTS; i++) {
      program(root, build, "cc_test", "lib_test" + i, i + BINARIES);
    }
    for (int chain = 0; chain < CHAINS; chain++) {
      for (int step = 0; step < CHAIN_LENGTH; step++) {
        String srcs = step == 0 ? "\":salt.txt\"" : "\":chain" + chain + "_" + (step - 1) + "\", \":salt.txt\"";
        build.append("genrule(\n    name = \"chain").append(chain).append('_').append(step).append("\",\n")
            .append("    srcs = [").append(srcs).append("],\n")
            .append("    outs = [\"chain").append(chain).append('_').append(step).append(".txt\"],\n")
            .append("    cmd = \"(cat $(SRCS); for i in $$(seq 1 200); do echo ").append(chain).append(" ")
            .append(step).append(" $$i; done) | sha256sum > $@ && cat $(SRCS) >> $@\",\n)\n\n");
      }
    }
    Files.writeString(root.resolve("check.sh"), "#!/bin/sh\n# Passes when its data file is there and not empty; prints it, so the test log (and the\n"
        + "# action that turns it into test.xml) changes with the salt too.\ntest -s \"$1\" && cat \"$1\"\n");
    root.resolve("check.sh").toFile().setExecutable(true);
    for (int i = 0; i < SH_TESTS; i++) {
      String data = ":chain" + (i % CHAINS) + "_" + (CHAIN_LENGTH - 1);
      build.append("sh_test(name = \"check").append(i).append("\", srcs = [\"check.sh\"], data = [\"")
          .append(data).append("\", \":salt.txt\"], args = [\"$(location ").append(data).append(")\"])\n\n");
    }
    build.append("genrule(\n    name = \"large\",\n    srcs = [\":salt.txt\"],\n    outs = [\"large.bin\"],\n")
        .append("    cmd = \"(cat $<; head -c ").append(LARGE_OUTPUT_BYTES).append(" /dev/zero) > $@\",\n)\n");
    Files.writeString(root.resolve("BUILD"), build);
    salt(root, salt);
  }

  /** Changes what every action reads, so every action's key changes. */
  public static void salt(Path root, String salt) throws IOException {
    Files.writeString(root.resolve("salt.txt"), salt + "\n");
    Files.writeString(root.resolve("salt.h"), "#pragma once\nstatic const char* const kSalt = \"" + salt + "\";\n");
  }

  private static void library(Path root, StringBuilder build, int i) throws IOException {
    Files.writeString(root.resolve("lib" + i + ".h"), "#pragma once\n#include <string>\nstd::string lib" + i
        + "_a(int n);\nstd::string lib" + i + "_b(int n);\n");
    for (String part : new String[] {"a", "b"}) {
      Files.writeString(root.resolve("lib" + i + "_" + part + ".cc"), """
          #include "lib%1$d.h"
          #include "salt.h"
          #include <map>
          #include <sstream>
          #include <vector>
          std::string lib%1$d_%2$s(int n) {
            std::map<int, std::vector<std::string>> table;
            for (int i = 0; i < n; ++i) table[i %% 7].push_back(std::to_string(i * %1$d));
            std::ostringstream out;
            out << kSalt;
            for (const auto& [key, values] : table) out << key << ':' << values.size() << ';';
            return out.str();
          }
          """.formatted(i, part));
    }
    build.append("cc_library(name = \"lib").append(i).append("\", srcs = [\"lib").append(i).append("_a.cc\", \"lib")
        .append(i).append("_b.cc\"], hdrs = [\"lib").append(i).append(".h\"], deps = [\":salt\"])\n\n");
  }

  /** A binary or test that links four of the libraries. */
  private static void program(Path root, StringBuilder build, String rule, String name, int index) throws IOException {
    StringBuilder includes = new StringBuilder();
    StringBuilder calls = new StringBuilder();
    StringBuilder deps = new StringBuilder();
    for (int k = 0; k < 4; k++) {
      int lib = (index * 4 + k) % LIBRARIES;
      includes.append("#include \"lib").append(lib).append(".h\"\n");
      calls.append("  total += lib").append(lib).append("_a(50).size() + lib").append(lib).append("_b(20).size();\n");
      deps.append("\":lib").append(lib).append("\", ");
    }
    Files.writeString(root.resolve(name + ".cc"), includes + "#include <cstdio>\n#include \"salt.h\"\n"
        + "int main() {\n  unsigned long total = 0;\n" + calls
        + "  std::printf(\"%s %lu\\n\", kSalt, total);\n  return total > 0 ? 0 : 1;\n}\n");
    build.append(rule).append("(name = \"").append(name).append("\", srcs = [\"").append(name).append(".cc\"], deps = [")
        .append(deps).append("\":salt\"])\n\n");
  }
}
