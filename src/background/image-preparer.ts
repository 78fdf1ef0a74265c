// Where images are decoded and preprocessed for the model. In Chrome, a worker of the offscreen
// document does it (decode-client.ts), so the service worker's event loop stays free for
// messages and the engine's thread for inference. Elsewhere (Firefox's event page, or a Chrome
// without offscreen documents) it happens here, one image at a time: a full-size decode holds the
// picture several times over, and one at a time bounds that memory and the core it takes from
// inference.
import { Limiter } from '../concurrency';
import { prepareImage } from '../engine/prepare-image';
import { OffscreenPreparer, type ImagePreparer } from '../offscreen/decode-client';
import { offscreenAvailable } from '../offscreen/document';

const here = new Limiter(1);
const prepareHere: ImagePreparer = { prepare: (file, spec) => here.run(() => prepareImage(file.blob, spec)) };

export function createImagePreparer(): ImagePreparer {
  return offscreenAvailable() ? new OffscreenPreparer(prepareHere) : prepareHere;
}
