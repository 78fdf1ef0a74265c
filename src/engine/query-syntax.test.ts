import { describe, expect, it } from 'vitest';
import { parseQuery } from './query-syntax';

const plain = (text: string, sign: 1 | -1 = 1) => ({ text, sign, exact: false });
const exact = (text: string, sign: 1 | -1 = 1) => ({ text, sign, exact: true });

describe('parseQuery', () => {
  it('keeps a plain query as one term, words joined by single spaces', () => {
    expect(parseQuery('  red   sports car ')).toEqual([plain('red sports car')]);
    expect(parseQuery('')).toEqual([]);
  });

  it.each([
    ['beach - people', [plain('beach'), plain('people', -1)]],
    ['beach -people', [plain('beach'), plain('people', -1)]],
    ['-people', [plain('people', -1)]],
    ['beach \u2212 people', [plain('beach'), plain('people', -1)]],
    ['beach \u2013 people', [plain('beach'), plain('people', -1)]],
    ['beach not people', [plain('beach'), plain('people', -1)]],
    ['NOT people', [plain('people', -1)]],
    ['sunset beach - crowded people', [plain('sunset beach'), plain('crowded people', -1)]],
  ])('subtracts: %s', (query, terms) => {
    expect(parseQuery(query)).toEqual(terms);
  });

  it.each([
    ['cat + dog', [plain('cat'), plain('dog')]],
    ['cat+dog', [plain('cat'), plain('dog')]],
    ['cat, dog', [plain('cat'), plain('dog')]],
    ['red car, blue sky - clouds', [plain('red car'), plain('blue sky'), plain('clouds', -1)]],
  ])('combines: %s', (query, terms) => {
    expect(parseQuery(query)).toEqual(terms);
  });

  it('keeps hyphens inside words', () => {
    expect(parseQuery('t-shirt - x-ray')).toEqual([plain('t-shirt'), plain('x-ray', -1)]);
    expect(parseQuery('well-lit room')).toEqual([plain('well-lit room')]);
  });

  it('embeds quoted prompts as written, operators included', () => {
    expect(parseQuery('"salt + pepper - not bad"')).toEqual([exact('salt + pepper - not bad')]);
    expect(parseQuery('“a photo of a dog”')).toEqual([exact('a photo of a dog')]);
    expect(parseQuery('dog - "a photo of a cat"')).toEqual([plain('dog'), exact('a photo of a cat', -1)]);
    expect(parseQuery('"unclosed quote')).toEqual([exact('unclosed quote')]);
    expect(parseQuery('""')).toEqual([]);
  });

  it('treats a lone "not" or dangling operators as nothing to embed', () => {
    expect(parseQuery('not')).toEqual([plain('not')]);
    expect(parseQuery('cat -')).toEqual([plain('cat')]);
    expect(parseQuery('+ , -')).toEqual([]);
  });
});
