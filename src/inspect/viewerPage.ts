/**
 * The page the inspection relay serves at `/`. The actor table works offline (it only talks to the relay); the
 * optional Stately inspector pane loads https://stately.ai/inspect in an iframe, so it needs internet access.
 * The page forwards events to that iframe with postMessage once it announces `@statelyai.connected`.
 */
export const STATELY_INSPECTOR_URL = 'https://stately.ai/inspect';

export function viewerPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>voicechart inspector</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 0; display: flex; flex-direction: column; height: 100vh; }
  header { padding: 8px 12px; background: #222; color: #eee; display: flex; gap: 12px; align-items: center; }
  main { flex: 1; display: flex; min-height: 0; }
  #actors { flex: 1; overflow: auto; padding: 8px 12px; }
  #stately { flex: 2; border: 0; border-left: 1px solid #ccc; display: none; }
  table { border-collapse: collapse; width: 100%; }
  td, th { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eee; font-family: ui-monospace, monospace; }
  tr.ended { color: #999; }
</style>
</head>
<body>
<header>
  <strong>voicechart inspector</strong>
  <span id="conn">connecting…</span>
  <button id="open-stately" title="Loads ${STATELY_INSPECTOR_URL}: needs internet">Stately inspector (needs internet)</button>
</header>
<main>
  <div id="actors"><table><thead><tr><th>actor</th><th>state</th><th>status</th><th>last event</th></tr></thead><tbody id="rows"></tbody></table></div>
  <iframe id="stately" title="Stately inspector"></iframe>
</main>
<script>
  const actors = new Map();   // sessionId -> { name, parentId, value, status, event, actorMsg, snapshotMsg }
  const rows = document.getElementById('rows');
  const frame = document.getElementById('stately');
  let statelyReady = false;

  const fmt = (v) => v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  const pathOf = (a) => {
    const names = [];
    for (let x = a, n = 0; x && n < 50; x = actors.get(x.parentId), n++) names.unshift(x.name);
    return names.join('/');
  };
  function render() {
    rows.replaceChildren(...[...actors.values()].map((a) => {
      const tr = document.createElement('tr');
      if (a.status !== 'active') tr.className = 'ended';
      for (const text of [pathOf(a), fmt(a.value), a.status, a.event]) {
        const td = document.createElement('td');
        td.textContent = text ?? '';
        tr.append(td);
      }
      return tr;
    }));
  }
  function forward(msg) { if (statelyReady) frame.contentWindow.postMessage(msg, '*'); }

  function onMessage(msg) {
    if (!msg || typeof msg.sessionId !== 'string') return;
    if (msg.type === '@xstate.actor') {
      actors.set(msg.sessionId, { name: msg.name || msg.sessionId, parentId: msg.parentId, status: 'active',
        value: msg.snapshot && msg.snapshot.value, event: '', actorMsg: msg });
    } else if (msg.type === '@xstate.snapshot') {
      const a = actors.get(msg.sessionId);
      if (a) Object.assign(a, { value: msg.snapshot.value, status: msg.snapshot.status || 'active',
        event: msg.event && msg.event.type, snapshotMsg: msg });
    } else if (msg.type === '@xstate.event') {
      const a = actors.get(msg.sessionId);
      if (a) a.event = msg.event && msg.event.type;
    }
    forward(msg);
    render();
  }

  function connect() {
    const ws = new WebSocket('ws://' + location.host + '/view');
    const conn = document.getElementById('conn');
    ws.onopen = () => { conn.textContent = 'live'; };
    ws.onclose = () => { conn.textContent = 'disconnected, retrying…'; setTimeout(connect, 1000); };
    ws.onmessage = (e) => { try { onMessage(JSON.parse(e.data)); } catch (err) { console.warn('bad inspection message', err); } };
  }

  window.addEventListener('message', (e) => {
    if (e.source !== frame.contentWindow || !e.data || e.data.type !== '@statelyai.connected') return;
    statelyReady = true;
    for (const a of actors.values()) { forward(a.actorMsg); if (a.snapshotMsg) forward(a.snapshotMsg); }
  });
  document.getElementById('open-stately').onclick = () => {
    frame.style.display = 'block';
    if (!frame.src) frame.src = '${STATELY_INSPECTOR_URL}';
  };
  connect();
</script>
</body>
</html>
`;
}
