/**
 * Opening export files (the "Open export…" button and drag-and-drop of a
 * file anywhere on the page) and downloading text as a file.
 *
 * DOM contract: `#file-input` is the file input.
 */

/**
 * @param {object} parts
 * @param {HTMLButtonElement} parts.button   opens the file chooser
 * @param {HTMLInputElement} parts.input     the file input
 * @param {HTMLElement} parts.overlay        shown while a file is dragged over the page
 * @param {(file: File) => void} parts.onFile
 */
export function bindFileOpening({ button, input, overlay, onFile }) {
  button.addEventListener('click', () => input.click());
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    input.value = ''; // so choosing the same file again still fires "change"
    if (file) onFile(file);
  });

  const carriesFiles = (event) => event.dataTransfer?.types?.includes('Files');
  window.addEventListener('dragover', (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault(); // allows the drop
    event.dataTransfer.dropEffect = 'copy';
    overlay.hidden = false;
  });
  window.addEventListener('dragleave', (event) => {
    if (event.relatedTarget === null) overlay.hidden = true; // left the window
  });
  window.addEventListener('drop', (event) => {
    overlay.hidden = true;
    const file = event.dataTransfer?.files?.[0];
    if (!file) return;
    event.preventDefault(); // do not let the browser navigate to the file
    onFile(file);
  });
}

/**
 * Offers `text` as a download named `filename`.
 *
 * @param {string} filename
 * @param {string} text
 */
export function downloadText(filename, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
