'use strict';
// What every page shares: reading the API, making elements (text only: nothing from the API is
// ever parsed as HTML) and formatting figures.
const rex = {
  async api(path, options) {
    const response = await fetch(path, Object.assign({credentials: 'same-origin'}, options || {}));
    if (response.status === 401) {
      location.href = '/ui/login?next=' + encodeURIComponent(location.pathname + location.search);
      throw new Error('not logged in');
    }
    if (!response.ok) throw new Error(path + ': ' + response.status + ' ' + (await response.text()).trim());
    return response.json();
  },
  el(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (name === 'class') element.className = value;
      else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
      else element.setAttribute(name, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) element.append(child instanceof Node ? child : String(child));
    }
    return element;
  },
  fill(tbody, rows, empty) {
    tbody.replaceChildren(...rows);
    if (rows.length === 0) {
      const columns = tbody.closest('table').querySelectorAll('thead th').length || 1;
      tbody.append(rex.el('tr', {}, rex.el('td', {colspan: columns, class: 'muted'}, empty || 'none')));
    }
  },
  card(label, value, note) {
    return rex.el('div', {class: 'card'}, rex.el('div', {class: 'label'}, label), rex.el('div', {class: 'value'}, value),
      note ? rex.el('div', {class: 'muted'}, note) : null);
  },
  bytes(n) {
    n = Number(n || 0);
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + ' ' + units[i];
  },
  seconds(s) {
    s = Number(s || 0);
    if (s === 0) return '';
    return s < 1 ? Math.round(s * 1000) + ' ms' : s.toFixed(2) + ' s';
  },
  blobLink(digest, name, text) {
    return rex.el('a', {href: '/api/blobs/' + digest.hash + '/' + digest.sizeBytes + '?name=' + encodeURIComponent(name),
      download: name.split('/').pop()}, text || 'download');
  },
  actionLink(digest, instance, text) {
    return rex.el('a', {href: '/ui/action?digest=' + encodeURIComponent(digest) + '&instance=' + encodeURIComponent(instance || '')}, text);
  },
};
