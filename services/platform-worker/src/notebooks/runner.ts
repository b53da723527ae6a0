/**
 * The program a batch notebook runs with, in the notebook image: fixed text, given to `python3 -c`;
 * what it works on comes in environment variables. It executes the notebook headless with nbclient
 * (kernel python3), writes the executed notebook (also when a cell fails: the traceback is in it),
 * prints the cells' printed output on stdout and stderr as they had it, and exits 0 when every cell
 * ran, 1 when a cell raised, 2 when the notebook could not be run at all. With EB_NOTEBOOK_FRAME=1 the
 * executed notebook is also printed, base64 between two marker lines, for platforms where the worker
 * can read a container's log but not its files (Kubernetes).
 */
export const NOTEBOOK_RUNNER = `
import base64, os, sys
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

src, dst = os.environ['EB_NOTEBOOK_IN'], os.environ['EB_NOTEBOOK_OUT']
code = 0
nb = None
try:
    nb = nbformat.read(src, as_version=4)
    client = NotebookClient(nb, timeout=int(os.environ.get('EB_CELL_TIMEOUT', '3600')), kernel_name='python3',
                            resources={'metadata': {'path': os.environ.get('EB_NOTEBOOK_CWD', os.path.dirname(src))}})
    client.execute()
except CellExecutionError as e:
    code = 1
    sys.stderr.write(str(e)[-4000:] + '\\n')
except Exception as e:
    code = 2
    sys.stderr.write('the notebook could not be run: %s: %s\\n' % (type(e).__name__, e))
if nb is not None:
    for cell in nb.cells:
        for out in cell.get('outputs', []):
            if out.get('output_type') == 'stream':
                (sys.stdout if out.get('name') == 'stdout' else sys.stderr).write(out.get('text', ''))
            elif out.get('output_type') == 'execute_result':
                sys.stdout.write(str(out.get('data', {}).get('text/plain', '')) + '\\n')
    nbformat.write(nb, dst)
    sys.stdout.flush()
    sys.stderr.flush()
    if os.environ.get('EB_NOTEBOOK_FRAME') == '1':
        with open(dst, 'rb') as f:
            encoded = base64.encodebytes(f.read()).decode('ascii')
        sys.stdout.write('\\n----- eb-executed-notebook base64 -----\\n' + encoded + '----- end of eb-executed-notebook -----\\n')
        sys.stdout.flush()
sys.exit(code)
`;

export const FRAME_BEGIN = '----- eb-executed-notebook base64 -----';
export const FRAME_END = '----- end of eb-executed-notebook -----';

export interface RunnerPaths {
  /** The notebook as fetched. */
  input: string;
  /** Where the executed notebook is written. */
  output: string;
  /** The kernel's working directory. */
  cwd: string;
}

/**
 * The environment of a notebook container: the runner's paths and limits, and Jupyter's and
 * IPython's own directories on /tmp (the image's root filesystem is read-only).
 */
export function notebookEnv(p: RunnerPaths, cellTimeoutS: number, frame: boolean): Record<string, string> {
  return {
    EB_NOTEBOOK_IN: p.input, EB_NOTEBOOK_OUT: p.output, EB_NOTEBOOK_CWD: p.cwd, EB_CELL_TIMEOUT: String(Math.max(1, Math.floor(cellTimeoutS))),
    ...(frame ? { EB_NOTEBOOK_FRAME: '1' } : {}),
    HOME: '/tmp', JUPYTER_RUNTIME_DIR: '/tmp/jupyter/runtime', JUPYTER_DATA_DIR: '/tmp/jupyter/data',
    JUPYTER_CONFIG_DIR: '/tmp/jupyter/config', IPYTHONDIR: '/tmp/ipython', PYTHONDONTWRITEBYTECODE: '1', PYDEVD_DISABLE_FILE_VALIDATION: '1',
  };
}

/** The executed notebook framed in a log, and the log without it (what the program itself printed). */
export function unframe(log: string): { notebook?: Buffer; rest: string } {
  const begin = log.lastIndexOf(`${FRAME_BEGIN}\n`);
  const end = begin < 0 ? -1 : log.indexOf(`${FRAME_END}\n`, begin);
  if (begin < 0 || end < 0) return { rest: log };
  const encoded = log.slice(begin + FRAME_BEGIN.length + 1, end).replace(/\s+/g, '');
  const before = log.slice(0, begin).replace(/\n$/, '');
  return { notebook: Buffer.from(encoded, 'base64'), rest: before + (before ? '\n' : '') + log.slice(end + FRAME_END.length + 1) };
}
