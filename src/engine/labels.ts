// Default label sets for zero-shot classification (users can replace them in the options page).
import type { ModelSpec } from './types';

/** Everyday things people meet in web images: broad enough to be useful without a setup step. */
export const EVERYDAY_LABELS: readonly string[] = [
  'person', 'group of people', 'baby', 'selfie', 'dog', 'cat', 'bird', 'horse', 'fish', 'insect',
  'wild animal', 'flower', 'tree', 'forest', 'mountain', 'beach', 'ocean', 'lake', 'desert', 'snow',
  'sky', 'sunset', 'city street', 'building', 'house', 'interior room', 'kitchen', 'bedroom', 'office',
  'car', 'bicycle', 'motorcycle', 'bus', 'train', 'airplane', 'boat', 'road', 'bridge',
  'food', 'pizza', 'cake', 'fruit', 'vegetables', 'coffee', 'drink',
  'shoe', 'sneakers', 'dress', 'shirt', 'bag', 'watch', 'jewelry', 'glasses', 'hat',
  'phone', 'laptop', 'computer screen', 'television', 'camera', 'headphones', 'furniture', 'chair', 'sofa',
  'book', 'toy', 'sports', 'ball', 'musical instrument', 'painting', 'drawing', 'cartoon', 'logo',
  'icon', 'text document', 'screenshot', 'chart', 'map', 'diagram', 'meme', 'advertisement',
];

/** The fixture model understands colours only (see scripts/make-fixture-model.ts). */
export const COLOUR_LABELS: readonly string[] = ['red', 'green', 'blue', 'yellow', 'black', 'white', 'orange', 'purple', 'pink', 'gray', 'brown', 'cyan'];

export function defaultLabels(spec: ModelSpec): string[] {
  return [...(spec.testOnly ? COLOUR_LABELS : EVERYDAY_LABELS)];
}

/** Prompts per label: a label's embedding is the mean of its prompts' (see meanEmbedding). */
export const PROMPT_TEMPLATES: readonly string[] = ['a photo of a {}.', 'a photo of the {}.', 'a close-up photo of a {}.', 'a bright photo of a {}.'];

export function labelPrompts(label: string): string[] {
  return PROMPT_TEMPLATES.map((t) => t.replace('{}', label));
}
