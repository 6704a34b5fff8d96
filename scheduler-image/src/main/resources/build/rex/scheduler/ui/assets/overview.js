'use strict';
// The overview: figures, workers (with drain and undrain), executors, queue, builds and actions,
// read again every two seconds.
(function () {
  const $ = (id) => document.getElementById(id);
  const filters = $('filters');
  const params = new URLSearchParams(location.search);
  for (const name of ['instance', 'outcome', 'invocation']) filters[name].value = params.get(name) || '';
  filters.addEventListener('input', () => {
    const query = new URLSearchParams();
    for (const name of ['instance', 'outcome', 'invocation']) if (filters[name].value) query.set(name, filters[name].value);
    history.replaceState(null, '', '/ui/' + (query.toString() ? '?' + query : ''));
    refresh();
  });
  filters.addEventListener('submit', (event) => event.preventDefault());

  function workerState(worker) {
    if (worker.drained) return 'drained';
    if (worker.draining) return 'draining';
    return 'up';
  }

  async function drain(worker, undo) {
    await rex.api('/api/workers/' + encodeURIComponent(worker.workerId) + (undo ? '/undrain' : '/drain'), {method: 'POST'});
    refresh();
  }

  function renderCluster(cluster) {
    $('scheduler').textContent = cluster.scheduler;
    const executors = cluster.executors.reduce((sum, p) => ({total: sum.total + p.total, busy: sum.busy + p.busy}), {total: 0, busy: 0});
    const queued = cluster.queues.reduce((sum, q) => sum + q.queued, 0);
    const lookups = Number(cluster.cacheLookups);
    const ratio = lookups === 0 ? 'no lookups' : Math.round(100 * Number(cluster.cacheHits) / lookups) + ' %';
    $('figures').replaceChildren(
      rex.card('schedulers', cluster.schedulers.length),
      rex.card('workers', cluster.workers.length, cluster.workers.filter((w) => w.draining).length + ' draining'),
      rex.card('executors busy', executors.busy + ' / ' + executors.total),
      rex.card('queued', queued),
      rex.card('builds in flight', cluster.builds.length),
      rex.card('cache hit ratio', ratio, 'last ' + Math.round(cluster.cacheWindowSeconds / 60) + ' min, ' + lookups + ' lookups'),
      rex.card('under-replicated blobs', cluster.underReplicatedBlobs));
    rex.fill($('workers').tBodies[0], cluster.workers.map((w) => {
      const state = workerState(w);
      const busy = w.executorList.filter((e) => e.operation).length;
      const storage = w.storage || {};
      return rex.el('tr', {'data-worker': w.workerId},
        rex.el('td', {}, rex.el('div', {}, w.workerId), rex.el('div', {class: 'muted'}, w.address)),
        rex.el('td', {}, rex.el('span', {class: 'state ' + state}, state), w.detail ? rex.el('div', {class: 'muted'}, w.detail) : null),
        rex.el('td', {}, busy + ' busy, ' + (w.executorList.length - busy) + ' idle'),
        rex.el('td', {}, rex.bytes(storage.casBytes) + ' of ' + rex.bytes(storage.casCapacityBytes),
          rex.el('div', {class: 'muted'}, Number(storage.casBlobs || 0) + ' blobs')),
        rex.el('td', {}, Number(storage.underReplicatedBlobs || 0)),
        rex.el('td', {}, w.draining
          ? rex.el('button', {type: 'button', class: 'undrain', onclick: () => drain(w, true)}, 'Undrain')
          : rex.el('button', {type: 'button', class: 'drain', onclick: () => {
            if (confirm('Drain ' + w.workerId + '? It stops taking actions and hands its blobs to the others.')) drain(w, false);
          }}, 'Drain')));
    }), 'no worker is connected');
    rex.fill($('executors').tBodies[0], cluster.executors.map((p) =>
      rex.el('tr', {}, rex.el('td', {}, p.platform || '(no properties)'), rex.el('td', {}, p.busy), rex.el('td', {}, p.total - p.busy))));
    rex.fill($('queues').tBodies[0], cluster.queues.map((q) =>
      rex.el('tr', {}, rex.el('td', {}, q.platform || '(no properties)'), rex.el('td', {}, q.priority), rex.el('td', {}, q.queued))), 'nothing waits');
    rex.fill($('builds').tBodies[0], cluster.builds.map((b) =>
      rex.el('tr', {}, rex.el('td', {}, rex.el('a', {href: '/ui/?invocation=' + encodeURIComponent(b.toolInvocationId)}, b.toolInvocationId)),
        rex.el('td', {}, b.tool), rex.el('td', {}, b.queued), rex.el('td', {}, b.running), rex.el('td', {}, b.finished))),
      'no build is running');
  }

  function renderActions(list) {
    rex.fill($('actions').tBodies[0], list.actions.map((a) => {
      const state = a.state === 'COMPLETED' ? a.outcome : a.state.toLowerCase();
      return rex.el('tr', {class: 'outcome-' + state},
        rex.el('td', {class: 'command'}, rex.actionLink(a.actionDigest, a.instanceName, a.command || a.actionDigest)),
        rex.el('td', {}, rex.el('span', {class: 'state ' + state}, state), a.error ? rex.el('div', {class: 'muted'}, a.error) : null),
        rex.el('td', {}, a.state === 'COMPLETED' && !a.error ? a.exitCode : ''),
        rex.el('td', {}, a.platform),
        rex.el('td', {class: 'nowrap'}, a.worker),
        rex.el('td', {class: 'nowrap'}, rex.seconds(a.queuedSeconds)),
        rex.el('td', {class: 'nowrap'}, rex.seconds(a.fetchSeconds)),
        rex.el('td', {class: 'nowrap'}, rex.seconds(a.executeSeconds)),
        rex.el('td', {class: 'nowrap'}, rex.seconds(a.uploadSeconds)),
        rex.el('td', {}, a.targetId, a.mnemonic ? rex.el('div', {class: 'muted'}, a.mnemonic) : null));
    }), 'no action matches');
  }

  let running = false;
  async function refresh() {
    if (running) return;
    running = true;
    try {
      const query = new URLSearchParams();
      for (const name of ['instance', 'outcome', 'invocation']) if (filters[name].value) query.set(name, filters[name].value);
      const [cluster, actions] = await Promise.all([rex.api('/api/cluster'), rex.api('/api/actions?' + query)]);
      renderCluster(cluster);
      renderActions(actions);
      $('status').textContent = 'updated ' + new Date().toLocaleTimeString();
    } catch (e) {
      $('status').textContent = e.message;
    } finally {
      running = false;
    }
  }
  refresh();
  setInterval(refresh, 2000);
})();
