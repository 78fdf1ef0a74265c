// Turns the shared manifest.json into what each browser accepts.
export type Target = 'chrome' | 'firefox';
export type Flavor = 'release' | 'test';

type Manifest = Record<string, any>;

export function browserManifest(base: Manifest, target: Target, flavor: Flavor): Manifest {
  const m: Manifest = structuredClone(base);
  if (flavor === 'test') {
    // (The name says "(test build)": scripts/locales.ts writes it into the test build's extName.)
    // Headless browsers show no permission prompt: test builds get the optional permissions at
    // install, so the popup's permissions.request answers "granted" at once and downloads run.
    m.permissions = [...m.permissions, ...(m.optional_permissions ?? [])];
    delete m.optional_permissions;
  }
  if (target === 'chrome') {
    delete m.browser_specific_settings;
  } else {
    // Firefox runs the background as an event page; it has no offscreen API.
    m.background = { scripts: [m.background.service_worker], type: 'module' };
    m.permissions = m.permissions.filter((p: string) => p !== 'offscreen');
    // Cross-origin isolation only serves Chrome's offscreen document (WASM threads); Firefox's
    // extension pages stay as they were.
    delete m.cross_origin_embedder_policy;
    delete m.cross_origin_opener_policy;
    m.browser_specific_settings.gecko.data_collection_permissions = { required: ['none'] };
  }
  return m;
}
