// A cross-origin example widget: served by its own origin (listed as `origin` in the TFX
// manifest), it vendors the widget SDK next to itself (tfx-widget-sdk.js = the platform's
// /widget-sdk/v1.js, or @tfx/widget-sdk from npm, bundled).
import { connect } from './tfx-widget-sdk.js';

const tfx = await connect();
const face = document.getElementById('face');
const list = document.getElementById('rolls');
let rolls = [];

function render() {
  const last = rolls[rolls.length - 1];
  face.textContent = last ? String(last.value) : '–';
  list.replaceChildren(
    ...rolls
      .slice(-20)
      .reverse()
      .map((r) => {
        const li = document.createElement('li');
        li.textContent = `${r.name} rolled ${r.value}`;
        return li;
      }),
  );
}

tfx.onMessage((data, from) => {
  const value = Number(data && data.value);
  if (!Number.isInteger(value) || value < 1 || value > 6) return;
  rolls.push({ name: from.name, value });
  render();
});

tfx.stateSync({
  getState: () => rolls,
  setState: (s) => {
    if (Array.isArray(s)) rolls = s.filter((r) => typeof r.name === 'string').slice(-100);
    render();
  },
});

document.getElementById('roll').addEventListener('click', async () => {
  const value = 1 + (crypto.getRandomValues(new Uint8Array(1))[0] % 6);
  rolls.push({ name: tfx.self().name, value });
  render();
  await tfx.sendMessage({ value });
});
document.body.dataset.ready = '1';
