// Addresses on a Hugging Face style host, and the repo-relative path helpers the hub code shares.

export const DEFAULT_BASE_URL = 'https://huggingface.co';
export const DEFAULT_REVISION = 'main';

/** `{base}/{repo}/resolve/{revision}/{path}`. */
export function fileUrl(baseUrl: string, repo: string, revision: string, path: string): string {
  return `${trimSlash(baseUrl)}/${repo}/resolve/${encodeURIComponent(revision)}/${encodePath(path)}`;
}

/** `{base}/api/models/{repo}/tree/{revision}[/{dir}]`: the listing of one directory. */
export function treeUrl(baseUrl: string, repo: string, revision: string, dir: string): string {
  return `${trimSlash(baseUrl)}/api/models/${repo}/tree/${encodeURIComponent(revision)}` + (dir ? `/${encodePath(dir)}` : '');
}

/** `{base}/api/models/{repo}/revision/{revision}`: the repo at a revision, with the commit (`sha`) it points to. */
export function revisionInfoUrl(baseUrl: string, repo: string, revision: string): string {
  return `${trimSlash(baseUrl)}/api/models/${repo}/revision/${encodeURIComponent(revision)}`;
}

export function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

export function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

export function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

export function trimSlash(s: string): string {
  return s.replace(/\/+$/, '');
}
