import { randomBytes } from 'node:crypto';
import { chmod, mkdir } from 'node:fs/promises';
import type Docker from 'dockerode';
import type { DockerNetworkPort, MessageItem } from '@eb/schema';
import type { ComponentContext } from '../adapter.js';
import type { DockerSettings } from './config.js';
import { configuredImage } from './image.js';
import { fetchNotebook } from '../../notebooks/fetch-notebook.js';
import { NOTEBOOK_RUNNER, notebookEnv } from '../../notebooks/runner.js';

/** What a container runs: its image, program, environment, ports and the binds beyond the volume mounts. */
export interface RunSpec {
  image: string;
  cmd?: string[];
  entrypoint?: string[];
  env: Record<string, string>;
  ports: DockerNetworkPort[];
  binds: string[];
  state?: Record<string, unknown>;
  messages?: MessageItem[];
}

export const NOTEBOOK_DIR = '/notebook';
const JUPYTER_PORT = 8888;

/** Where Jupyter serves an interactive notebook, with its per-execution token (the access URL's path). */
export const notebookPorts = (token: string): DockerNetworkPort[] => [
  { access: true, internal: { port: JUPYTER_PORT }, protocol: 'HTTP', path: `notebooks/input.ipynb?token=${token}` },
];

/**
 * A JupyterNotebook in the configured notebook image: the notebook is fetched (under the egress policy)
 * into a directory of the execution's, mounted at /notebook. Batch runs execute it headless with
 * nbclient and write /notebook/output.ipynb; interactive runs serve it with Jupyter Notebook on port
 * 8888, behind a token made for this execution alone.
 */
export async function notebookRun(docker: Docker, s: DockerSettings, ctx: ComponentContext, dir: string): Promise<RunSpec> {
  if (!s.notebookImage) throw new Error('no notebook image is configured on this platform (EB_NOTEBOOK_IMAGE)');
  const image = await configuredImage(docker, s.notebookImage, s.pull);
  await mkdir(dir, { recursive: true });
  // The container may run as any user: the notebook's directory is its own to write.
  await chmod(dir, 0o777);
  const fetched = await fetchNotebook((ctx.component.spec as { location?: unknown }).location, dir, s.staging, ctx.signal);
  const e = ctx.record.execution;
  const env = notebookEnv({ input: `${NOTEBOOK_DIR}/input.ipynb`, output: `${NOTEBOOK_DIR}/output.ipynb`, cwd: NOTEBOOK_DIR }, e.available_ms / 1000, false);
  const binds = [`${dir}:${NOTEBOOK_DIR}:rw`];
  if (!e.interactive) return { image, cmd: ['python3', '-c', NOTEBOOK_RUNNER], env, ports: [], binds, messages: fetched.messages };
  const token = typeof ctx.state.jupyterToken === 'string' ? ctx.state.jupyterToken : randomBytes(24).toString('hex');
  return {
    image,
    cmd: ['jupyter', 'notebook', '--no-browser', '--allow-root', `--ip=0.0.0.0`, `--port=${JUPYTER_PORT}`, `--notebook-dir=${NOTEBOOK_DIR}`],
    // The token goes in the environment, not on the command line (where `ps` on the host shows it).
    env: { ...env, JUPYTER_TOKEN: token },
    ports: notebookPorts(token),
    binds,
    state: { jupyterToken: token },
    messages: fetched.messages,
  };
}
