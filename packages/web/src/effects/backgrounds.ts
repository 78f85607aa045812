/**
 * Built-in backgrounds, drawn here (no image files to fetch, nothing from another host): each
 * name becomes a 640×360 picture as a `blob:` URL of this page, made once.
 */
const made = new Map<string, string>();

export function backgroundUrl(name: string): string {
  const hit = made.get(name);
  if (hit) return hit;
  const c = document.createElement('canvas');
  c.width = 640;
  c.height = 360;
  const g = c.getContext('2d') as CanvasRenderingContext2D;
  draw(g, name);
  // A data: URL is synchronous and local; the pipeline turns it into a bitmap once.
  const url = c.toDataURL('image/png');
  made.set(name, url);
  return url;
}

function draw(g: CanvasRenderingContext2D, name: string): void {
  const lin = (stops: Array<[number, string]>, x1 = 0, y1 = 0, x2 = 0, y2 = 360): void => {
    const gr = g.createLinearGradient(x1, y1, x2, y2);
    for (const [o, col] of stops) gr.addColorStop(o, col);
    g.fillStyle = gr;
    g.fillRect(0, 0, 640, 360);
  };
  switch (name) {
    case 'sunset':
      lin([
        [0, '#2b1055'],
        [0.55, '#d53369'],
        [0.8, '#f7b267'],
        [1, '#3b2a3f'],
      ]);
      g.fillStyle = 'rgba(255,230,150,0.9)';
      g.beginPath();
      g.arc(440, 250, 60, 0, Math.PI * 2);
      g.fill();
      break;
    case 'shelves':
      lin([
        [0, '#5b4636'],
        [1, '#3a2c22'],
      ]);
      for (let row = 0; row < 4; row++) {
        g.fillStyle = '#2a1f17';
        g.fillRect(0, 80 + row * 85, 640, 8);
        for (let i = 0; i < 24; i++) {
          const hue = (i * 47 + row * 90) % 360;
          g.fillStyle = `hsl(${hue} 45% 40%)`;
          const h = 40 + ((i * 13 + row * 7) % 30);
          g.fillRect(10 + i * 26, 80 + row * 85 - h, 20, h);
        }
      }
      break;
    case 'office':
      lin([
        [0, '#dfe7ee'],
        [1, '#b8c4cf'],
      ]);
      g.fillStyle = '#8fa9bf';
      g.fillRect(60, 40, 220, 150);
      g.fillRect(360, 40, 220, 150);
      g.fillStyle = '#cfe3f2';
      g.fillRect(70, 50, 200, 130);
      g.fillRect(370, 50, 200, 130);
      g.fillStyle = '#7a6a58';
      g.fillRect(0, 300, 640, 60);
      break;
    default:
      lin([
        [0, '#3a4454'],
        [1, '#222a35'],
      ]);
  }
}
