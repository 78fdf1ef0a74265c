// Vitest setup: unit tests run outside an extension, so `t()` reads the English files.
import { setMessageSource } from '../i18n';
import { nodeMessageSource } from './node-source';

setMessageSource(nodeMessageSource('en'));
