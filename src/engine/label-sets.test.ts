import { describe, expect, it } from 'vitest';
import { getModel } from './registry';
import { IMAGENET_CLASSES, IMAGENET_TEMPLATES } from './imagenet-classes';
import { builtInLabelSets, labelSetsToJson, labelSetToText, parseLabelSetFile, parseLabelSetText, sanitizeLabelSet, setPrompts } from './label-sets';

describe('label sets', () => {
  it('has the everyday and ImageNet-1k sets built in, ImageNet with its 1,000 classes and the 7 templates', () => {
    const [everyday, imagenet] = builtInLabelSets(getModel('fixture')!);
    expect(everyday.id).toBe('everyday');
    expect(everyday.labels).toContain('red'); // the fixture model knows colours only
    expect(imagenet.labels).toHaveLength(1000);
    expect(IMAGENET_CLASSES[0]).toBe('tench');
    expect(IMAGENET_CLASSES[999]).toBe('toilet paper');
    expect(imagenet.templates).toEqual([...IMAGENET_TEMPLATES]);
    expect(IMAGENET_TEMPLATES).toHaveLength(7);
    expect(setPrompts(imagenet, 'tench')[0]).toBe('itap of a tench.');
  });

  it('round-trips a set through its text form', () => {
    const set = sanitizeLabelSet({ name: 'Birds', labels: ['robin', 'owl'], templates: ['a photo of a {}, a bird.'] })!;
    const back = parseLabelSetText(labelSetToText(set), 'ignored')!;
    expect(back).toMatchObject({ name: 'Birds', labels: ['robin', 'owl'], templates: ['a photo of a {}, a bird.'], builtIn: false });
  });

  it('reads a plain list as a set named after the file, with the default templates', () => {
    const [set] = parseLabelSetFile('cat\n\n  dog \n# a comment\ncat\n', 'pets');
    expect(set).toMatchObject({ name: 'pets', labels: ['cat', 'dog'] });
    expect(set.templates.every((t) => t.includes('{}'))).toBe(true);
  });

  it('round-trips several sets through JSON, with fresh ids', () => {
    const a = sanitizeLabelSet({ id: 'user-a', name: 'A', labels: ['x'], templates: ['{} photo'] })!;
    const b = sanitizeLabelSet({ id: 'user-b', name: 'B', labels: ['y', 'z'] })!;
    const back = parseLabelSetFile(labelSetsToJson([a, b]), 'ignored');
    expect(back.map((s) => [s.name, s.labels, s.templates])).toEqual([['A', ['x'], ['{} photo']], ['B', ['y', 'z'], b.templates]]);
    expect(back.map((s) => s.id)).not.toContain('user-a');
  });

  it('refuses sets without a name or labels, and templates without a slot', () => {
    expect(sanitizeLabelSet({ name: '', labels: ['a'] })).toBeNull();
    expect(sanitizeLabelSet({ name: 'n', labels: [] })).toBeNull();
    expect(sanitizeLabelSet({ name: 'n', labels: ['a'], templates: ['no slot'] })!.templates[0]).toContain('{}');
    expect(parseLabelSetFile('{"labelSets": 5}', 'x')).toEqual([]);
  });
});
