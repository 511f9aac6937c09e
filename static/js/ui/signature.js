// The 农户签字确认 pad: pointer events (finger, pen or mouse), exported as a
// small PNG data URL (the canvas is drawn at a modest resolution, black on
// white, so a signature is a few KB, far below the 200 KB limit).

import {h} from './dom.js';

const WIDTH = 600;
const HEIGHT = 240;

export function signaturePad({name, value, onChange}) {
  const canvas = h('canvas', {width: WIDTH, height: HEIGHT, class: 'sigpad', 'aria-label': '签字区'});
  const input = h('input', {type: 'hidden', name, value: value || ''});
  const ctx = canvas.getContext('2d');
  const reset = () => {
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, WIDTH, HEIGHT);
    ctx.strokeStyle = '#111';
    ctx.lineWidth = 4;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
  };
  reset();
  if (value) {
    const img = new Image();
    img.onload = () => ctx.drawImage(img, 0, 0, WIDTH, HEIGHT);
    img.src = value;
  }
  let drawing = false;
  let strokes = 0;
  const point = (event) => {
    const rect = canvas.getBoundingClientRect();
    return [(event.clientX - rect.left) * (WIDTH / rect.width), (event.clientY - rect.top) * (HEIGHT / rect.height)];
  };
  canvas.addEventListener('pointerdown', (event) => {
    event.preventDefault();
    canvas.setPointerCapture?.(event.pointerId);
    drawing = true;
    const [x, y] = point(event);
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + 0.1, y + 0.1);
    ctx.stroke();
  });
  canvas.addEventListener('pointermove', (event) => {
    if (!drawing) return;
    event.preventDefault();
    const [x, y] = point(event);
    ctx.lineTo(x, y);
    ctx.stroke();
  });
  const finish = () => {
    if (!drawing) return;
    drawing = false;
    strokes += 1;
    input.value = canvas.toDataURL('image/png');
    onChange(input.value);
  };
  canvas.addEventListener('pointerup', finish);
  canvas.addEventListener('pointercancel', finish);
  canvas.addEventListener('pointerleave', finish);
  const clearButton = h('button', {type: 'button', class: 'small-button', onclick: () => {
    reset();
    strokes = 0;
    input.value = '';
    onChange(null);
  }}, '重签');
  const el = h('div', {class: 'sigwrap'}, canvas, input, h('div', {class: 'row'}, h('span', {class: 'muted small'}, '请农户用手指在框内签名'), clearButton));
  el.strokes = () => strokes;
  return el;
}
