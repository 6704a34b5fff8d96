"""Rules whose actions exercise remote execution: a tree artifact and a symlink output."""

def _tree_impl(ctx):
    out = ctx.actions.declare_directory(ctx.label.name)
    ctx.actions.run_shell(
        outputs = [out],
        command = "mkdir -p {o}/sub && echo alpha > {o}/a.txt && echo beta > {o}/sub/b.txt && chmod +x {o}/a.txt".format(o = out.path),
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

tree = rule(implementation = _tree_impl)

def _symlink_impl(ctx):
    target = ctx.actions.declare_file(ctx.label.name + ".txt")
    link = ctx.actions.declare_file(ctx.label.name + ".link")
    ctx.actions.run_shell(
        outputs = [target, link],
        command = "echo linked > {t} && ln -s {name} {l}".format(t = target.path, name = target.basename, l = link.path),
    )
    return [DefaultInfo(files = depset([target, link]))]

symlink = rule(implementation = _symlink_impl)
