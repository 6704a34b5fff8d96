'use strict';
// One action: its command, result (stdout and stderr inline, every output downloadable), the
// input root as a tree that opens level by level, and its executions here with their timings.
(function () {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const digest = params.get('digest') || '';
  const instance = params.get('instance') || '';
  $('digest').textContent = digest;

  function keyValues(table, pairs) {
    rex.fill(table.tBodies[0], pairs.map(([k, v]) => rex.el('tr', {}, rex.el('th', {}, k), rex.el('td', {}, v))));
  }

  function output(name, text, truncated, blobDigest) {
    $(name).textContent = text || '(empty)';
    if (truncated) $(name).append(rex.el('div', {class: 'muted'}, '… (shortened; download the whole)'));
    if (blobDigest && Number(blobDigest.sizeBytes) > 0) {
      const link = $(name + '-download');
      link.href = '/api/blobs/' + blobDigest.hash + '/' + blobDigest.sizeBytes + '?name=' + name + '.txt';
      link.hidden = false;
    }
  }

  function directoryNode(name, dirDigest) {
    const item = rex.el('li', {class: 'dir'});
    const toggle = rex.el('button', {type: 'button', class: 'link'}, name + '/');
    let open = false;
    let children = null;
    toggle.addEventListener('click', async () => {
      open = !open;
      if (open && !children) {
        children = rex.el('ul', {class: 'tree'});
        item.append(children);
        await listInto(children, dirDigest);
      }
      if (children) children.hidden = !open;
    });
    item.append(toggle, rex.el('span', {class: 'muted'}, ' ' + dirDigest.hash.slice(0, 12)));
    return item;
  }

  async function listInto(list, dirDigest) {
    try {
      const listing = await rex.api('/api/directories/' + dirDigest.hash + '/' + dirDigest.sizeBytes);
      const dir = listing.directory;
      for (const d of dir.directories) list.append(directoryNode(d.name, d.digest));
      for (const f of dir.files) {
        list.append(rex.el('li', {class: 'file'}, rex.blobLink(f.digest, f.name, f.name),
          rex.el('span', {class: 'muted'}, ' ' + rex.bytes(f.digest.sizeBytes) + (f.isExecutable ? ', executable' : ''))));
      }
      for (const s of dir.symlinks) list.append(rex.el('li', {}, s.name + ' → ' + s.target));
      if (list.children.length === 0) list.append(rex.el('li', {class: 'muted'}, '(empty)'));
    } catch (e) {
      list.append(rex.el('li', {class: 'error'}, e.message));
    }
  }

  async function load() {
    let detail;
    try {
      detail = await rex.api('/api/actions/' + digest + '?instance=' + encodeURIComponent(instance));
    } catch (e) {
      $('error').textContent = e.message;
      $('error').hidden = false;
      return;
    }
    const command = detail.command;
    const result = detail.result;
    const latest = detail.executions[0];
    const outcome = latest ? (latest.state === 'COMPLETED' ? latest.outcome : latest.state.toLowerCase())
      : (result ? (result.exitCode === 0 ? 'success' : 'exit_nonzero') : 'unknown');
    $('summary').replaceChildren(
      rex.card('outcome', rex.el('span', {class: 'state ' + outcome}, outcome), latest && latest.error ? latest.error : null),
      rex.card('exit code', result ? result.exitCode : ''),
      rex.card('instance', detail.instanceName || '(default)'),
      rex.card('worker', latest ? latest.worker : (result && result.executionMetadata ? result.executionMetadata.worker : '')),
      rex.card('timeout', detail.action.timeout || 'default'),
      rex.card('cacheable', detail.action.doNotCache ? 'no' : 'yes'));
    $('arguments').textContent = command.arguments.map((a) => /[\s'"]/.test(a) ? JSON.stringify(a) : a).join(' ')
      + (command.workingDirectory ? '\n(in ' + command.workingDirectory + ')' : '');
    keyValues($('environment'), command.environmentVariables.map((v) => [v.name, v.value]));
    keyValues($('platform'), ((detail.action.platform || command.platform || {}).properties || []).map((p) => [p.name, p.value]));
    $('declared').replaceChildren(...(command.outputPaths.length ? command.outputPaths : command.outputFiles.concat(command.outputDirectories))
      .map((p) => rex.el('li', {}, p)));
    if (result) {
      $('result-source').textContent = '(from ' + detail.resultSource + ')';
      output('stderr', detail.stderr, detail.stderrTruncated, result.stderrDigest);
      output('stdout', detail.stdout, detail.stdoutTruncated, result.stdoutDigest);
      const rows = result.outputFiles.map((f) => rex.el('tr', {}, rex.el('td', {}, f.path), rex.el('td', {}, rex.bytes(f.digest.sizeBytes)),
        rex.el('td', {}, rex.blobLink(f.digest, f.path))));
      for (const d of result.outputDirectories) {
        rows.push(rex.el('tr', {}, rex.el('td', {}, d.path + '/'), rex.el('td', {}, 'tree, ' + rex.bytes(d.treeDigest.sizeBytes)),
          rex.el('td', {}, rex.blobLink(d.treeDigest, d.path.split('/').pop() + '.tree', 'download Tree'))));
      }
      rex.fill($('outputs').tBodies[0], rows, 'no output files');
    } else {
      $('result-section').replaceChildren(rex.el('h2', {}, 'Result'), rex.el('p', {class: 'muted'}, 'no result yet'));
    }
    const root = detail.action.inputRootDigest;
    if (root) $('inputs').replaceChildren(directoryNode('(input root)', root));
    $('executions').replaceChildren(...detail.executions.map((e) => rex.el('details', {},
      rex.el('summary', {}, e.operation + ': ' + (e.state === 'COMPLETED' ? e.outcome : e.state.toLowerCase())
        + (e.worker ? ' on ' + e.worker : '') + ' — queued ' + rex.seconds(e.queuedSeconds) + ', fetch ' + rex.seconds(e.fetchSeconds)
        + ', execute ' + rex.seconds(e.executeSeconds) + ', upload ' + rex.seconds(e.uploadSeconds)),
      rex.el('ol', {}, ...e.history.map((h) => rex.el('li', {}, h))))));
    if (detail.executions.length === 0) $('executions').textContent = 'none held (the result came from the Action Cache)';
  }
  load();
})();
