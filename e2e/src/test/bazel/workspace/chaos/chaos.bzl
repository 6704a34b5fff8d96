"""Many small, independent actions plus a layer that reads their outputs: the cluster tests'
workload. Every target is manual, so `bazel build //...` in the other tests leaves them out."""

def chaos_targets(leaves, group_size):
    leaf_names = []
    for i in range(leaves):
        lines = 120000 if i % 20 == 0 else (i % 7 + 1) * 500
        native.genrule(
            name = "leaf_%d" % i,
            outs = ["leaf_%d.txt" % i],
            cmd = "sleep 0.3; seq 1 %d | sed 's/^/leaf %d line /' > $@" % (lines, i),
            tags = ["manual"],
        )
        leaf_names.append(":leaf_%d" % i)
    group_names = []
    for g in range(leaves // group_size):
        members = leaf_names[g * group_size:(g + 1) * group_size]
        native.genrule(
            name = "group_%d" % g,
            srcs = members,
            outs = ["group_%d.txt" % g],
            cmd = "sleep 0.2; cat $(SRCS) | sha256sum > $@; wc -l $(SRCS) | tail -n 1 >> $@",
            tags = ["manual"],
        )
        group_names.append(":group_%d" % g)
    native.genrule(
        name = "everything",
        srcs = group_names,
        outs = ["everything.txt"],
        cmd = "cat $(SRCS) > $@",
        tags = ["manual"],
    )
