/** Notebooks the tests run, as nbformat 4 documents. */

const cell = (id: string, source: string) => ({ cell_type: 'code', id, metadata: {}, execution_count: null, outputs: [], source });

const notebook = (cells: ReturnType<typeof cell>[]) => JSON.stringify({
  nbformat: 4, nbformat_minor: 5,
  metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' }, language_info: { name: 'python' } },
  cells,
});

/** Computes the MD5 of a staged file: prints it, and leaves it as the last cell's result. */
export const md5Notebook = (path: string) => notebook([
  cell('load', `import hashlib, pathlib\ndata = pathlib.Path(${JSON.stringify(path)}).read_bytes()\nprint('read', len(data), 'bytes')`),
  cell('hash', 'digest = hashlib.md5(data).hexdigest()\nprint("md5", digest)'),
  cell('result', 'digest'),
]);

/** Runs one cell, then divides by zero. */
export const failingNotebook = () => notebook([
  cell('ok', 'print("before the error")'),
  cell('boom', '1 / 0'),
  cell('never', 'print("never printed")'),
]);
