// The popup's and options page's one way to ask the background something: typed by request
// (ResponseFor), and a failure the background reports is thrown with its own words.
import browser from 'webextension-polyfill';
import { type RequestMessage, type ResponseFor } from './messages';
import { parseResponse } from './message-validators';

export async function sendRequest<M extends RequestMessage>(message: M): Promise<ResponseFor<M>> {
  const response = parseResponse(await browser.runtime.sendMessage(message));
  if (!response) throw new Error('The extension background did not answer; try again.');
  if (!response.ok) throw new Error(response.error);
  return response as ResponseFor<M>;
}
