// The demo's service worker: after the first visit the demo works with the network cut.
//
// On install it downloads every file listed in asset-manifest.json (written by scripts/build-www.sh with each
// file's SHA-256), checks each body against its hash, and only if every file matches puts them all in one cache
// named after the manifest's version; a bad or truncated response is never cached (the install fails and the
// page keeps using the network). On activate it deletes the caches of older versions. Requests for a cached file
// are answered from the cache; everything else goes to the network. Note text is never seen here: the page
// and its worker send none over the network, so no request carries any.

const PREFIX = 'notecoder-';

async function sha256Hex(buffer) {
  const digest = await crypto.subtle.digest('SHA-256', buffer);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function install() {
  const manifest = await (await fetch('asset-manifest.json', { cache: 'no-store' })).json();
  const verified = [];
  for (const [path, hash] of Object.entries(manifest.files)) {
    const url = new URL(path, self.registration.scope).href;
    const response = await fetch(url, { cache: 'no-store' });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    const body = await response.clone().arrayBuffer();
    const got = await sha256Hex(body);
    if (got !== hash) throw new Error(`${path}: SHA-256 ${got} does not match the manifest's ${hash}`);
    verified.push([url, response]);
  }
  const cache = await caches.open(PREFIX + manifest.version);
  // The root URL serves index.html.
  const index = verified.find(([url]) => url.endsWith('/index.html'));
  if (index) await cache.put(new URL('./', self.registration.scope).href, index[1].clone());
  await Promise.all(verified.map(([url, response]) => cache.put(url, response)));
}

self.addEventListener('install', (event) => {
  event.waitUntil(install().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    // Cache names come back in order of creation: the newest one is this version's, made by install().
    const ours = (await caches.keys()).filter((k) => k.startsWith(PREFIX));
    await Promise.all(ours.slice(0, -1).map((k) => caches.delete(k)));
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith((async () => {
    const hit = await caches.match(request, { ignoreSearch: false });
    return hit ?? fetch(request);
  })());
});
