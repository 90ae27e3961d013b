// The demo page: example buttons and the list of accepted codes. The element does the rest.
import { EXAMPLES } from './examples.js';

// Offline after the first visit: sw.js caches the demo's files once they match asset-manifest.json's hashes.
// (The component itself registers nothing: an EHR page decides about its own service worker.)
if ('serviceWorker' in navigator && window.isSecureContext) {
  navigator.serviceWorker.register('./sw.js').catch((err) => {
    console.warn(`notecoder demo: offline use unavailable: ${err.message}`);
  });
}

const note = document.getElementById('note');
const coder = document.querySelector('note-coder');
const acceptedOut = document.getElementById('accepted');
const examples = document.querySelector('.examples');

for (const example of EXAMPLES) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'example';
  button.dataset.example = example.id;
  button.textContent = example.title;
  button.addEventListener('click', () => {
    coder.reset?.();
    note.value = example.text;
    note.dispatchEvent(new Event('input', { bubbles: true }));
    note.focus();
    note.setSelectionRange(0, 0);
    note.scrollTop = 0;
  });
  examples.append(button);
}

document.addEventListener('notecoder:change', (event) => {
  const labels = new Map((coder.codebook?.codes ?? []).map((c) => [c.id, c.label]));
  const ids = event.detail.accepted;
  acceptedOut.textContent = ids.length ? ids.map((id) => labels.get(id) ?? id).join(', ') : 'none';
});
