// bg dashboard: live refresh of [data-live] regions and "select all" checkboxes.
// No framework, no build step. Everything works without it; this only saves reloads.

function refresh(region) {
  const url = region.getAttribute('data-live');
  const interval = Math.max(Number(region.getAttribute('data-interval')) || 5000, 2000);
  let timer;
  const tick = () => {
    if (document.hidden) {
      timer = setTimeout(tick, interval);
      return;
    }
    fetch(url, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then((res) => (res.ok ? res.text() : Promise.reject(new Error(`HTTP ${res.status}`))))
      .then((html) => {
        // The fragment is rendered and escaped by the dashboard itself.
        if (!region.contains(document.activeElement)) region.innerHTML = html;
        region.removeAttribute('data-stale');
      })
      .catch(() => region.setAttribute('data-stale', 'true'))
      .finally(() => {
        timer = setTimeout(tick, interval);
      });
  };
  timer = setTimeout(tick, interval);
  return () => clearTimeout(timer);
}

function selectAll(box) {
  box.addEventListener('change', () => {
    const form = box.closest('form');
    if (!form) return;
    for (const other of form.querySelectorAll('input[type=checkbox][name=id]')) other.checked = box.checked;
  });
}

document.addEventListener('DOMContentLoaded', () => {
  for (const region of document.querySelectorAll('[data-live]')) refresh(region);
  for (const box of document.querySelectorAll('[data-select-all]')) selectAll(box);
});
