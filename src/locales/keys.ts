// The message keys, from the English files (type-only imports: nothing is bundled). A new area
// file needs a line here and its twin in every other language's folder.
import type common from './en/common.json';
import type popup from './en/popup.json';
import type content from './en/content.json';
import type background from './en/background.json';
import type options from './en/options.json';
import type models from './en/models.json';
import type memory from './en/memory.json';
import type hub from './en/hub.json';
import type indexing from './en/indexing.json';

export type Messages = typeof common & typeof popup & typeof content & typeof background & typeof options & typeof models & typeof memory & typeof hub & typeof indexing;
