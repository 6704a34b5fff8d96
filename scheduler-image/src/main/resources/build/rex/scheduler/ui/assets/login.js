'use strict';
// A token in the address's #fragment (never sent to a server) is filled in and sent at once.
(function () {
  const form = document.getElementById('login');
  const params = new URLSearchParams(location.search);
  form.action = '/ui/login?next=' + encodeURIComponent(params.get('next') || '/ui/');
  if (params.get('failed')) document.getElementById('failed').hidden = false;
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get('token')) {
    form.token.value = fragment.get('token');
    history.replaceState(null, '', location.pathname + location.search);
    form.submit();
  }
})();
