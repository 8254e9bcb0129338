// `workflows:` in nimbus.yml and serverless.yml's stepFunctions block at load: definition files
// read (JSON or YAML), function references resolved, and the deploy hook's own checks reported
// at the definition's file:line with the state's JSON pointer, before anything is uploaded.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { loadAppConfig, parseAppConfig } from '../../src/config/load-app-config.js';

const root = mkdtempSync(join(tmpdir(), 'nimbus-workflows-config-'));
after(() => rmSync(root, { recursive: true, force: true }));

const HEAD = ['app: shop', 'functions:', '  work:', '    handler: index.work'];

function app(files: Record<string, string>): string {
  const dir = mkdtempSync(join(root, 'app-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

async function problems(dir: string): Promise<string[]> {
  try {
    await loadAppConfig(dir);
    return [];
  } catch (err) {
    const issues = (err as { issues?: Array<{ file: string; line: number; message: string }> }).issues;
    if (!issues) throw err;
    return issues.map((i) => `${i.file.replace(`${dir}/`, '')}:${i.line}: ${i.message}`);
  }
}

test('a .asl.json file and a .asl.yaml file load as definitions; types standard and express', async () => {
  const dir = app({
    'nimbus.yml': [
      ...HEAD,
      'workflows:',
      '  a: { definition: flows/a.asl.json }',
      '  b: { definition: flows/b.asl.yaml, type: express }',
    ].join('\n'),
    'flows/a.asl.json':
      '{ "StartAt": "W", "States": { "W": { "Type": "Task", "Resource": "work", "End": true } } }',
    'flows/b.asl.yaml': 'StartAt: S\nStates:\n  S: { Type: Succeed }\n',
  });
  const config = await loadAppConfig(dir);
  assert.equal(config.workflows.a?.type, 'STANDARD');
  assert.equal(config.workflows.a?.file, 'flows/a.asl.json');
  assert.equal(config.workflows.b?.type, 'EXPRESS');
  assert.deepEqual(config.workflows.b?.definition, { StartAt: 'S', States: { S: { Type: 'Succeed' } } });
  assert.deepEqual(config.warnings, []);
});

test('ASL errors point at the definition file line with the state pointer', async () => {
  const dir = app({
    'nimbus.yml': [...HEAD, 'workflows:', '  a: { definition: flows/a.asl.json }'].join('\n'),
    'flows/a.asl.json': [
      '{',
      '  "StartAt": "One",',
      '  "States": {',
      '    "One": { "Type": "Pass", "Next": "Two" },',
      '    "Two": {',
      '      "Type": "Task",',
      '      "Resource": "missing",',
      '      "End": true',
      '    }',
      '  }',
      '}',
    ].join('\n'),
  });
  assert.deepEqual(await problems(dir), [
    "flows/a.asl.json:7: workflows.a: /States/Two/Resource: Task state 'Two' names function 'missing', which is not a function of app 'shop'; name one of its functions (work) or declare 'missing' under `functions:`",
  ]);
  const yamlDir = app({
    'nimbus.yml': [...HEAD, 'workflows:', '  a: { definition: a.asl.yaml }'].join('\n'),
    'a.asl.yaml': 'StartAt: One\nStates:\n  One:\n    Type: Pass\n    Next: Nowhere\n',
  });
  const [yamlIssue] = await problems(yamlDir);
  assert.match(yamlIssue!, /^a\.asl\.yaml:5: workflows\.a: \/States\/One\/Next: MISSING_TRANSITION_TARGET/);
});

test('inline definitions are located in nimbus.yml; file and shape mistakes name the fix', () => {
  const issues = (lines: string[]): string[] => {
    try {
      parseAppConfig([...HEAD, ...lines].join('\n'), join(root, 'nimbus.yml'));
      return [];
    } catch (err) {
      return (err as { issues: Array<{ line: number; message: string }> }).issues.map(
        (i) => `${i.line}: ${i.message}`,
      );
    }
  };
  const [inline] = issues([
    'workflows:',
    '  a:',
    '    definition:',
    '      StartAt: A',
    '      States:',
    '        A: { Type: Wait, Next: B }',
    '        B: { Type: Succeed }',
  ]);
  assert.match(inline!, /^10: workflows\.a: \/States\/A: .*Seconds/);
  assert.match(
    issues(['workflows:', '  a: { definition: nope.asl.json }'])[0]!,
    /^6: workflows\.a\.definition: no file .*nope\.asl\.json; the path is relative to/,
  );
  assert.match(
    issues(['workflows:', '  a: { definition: a.txt }'])[0]!,
    /must name a \.asl\.json, \.asl\.yaml, \.json or \.yaml file/,
  );
  assert.match(
    issues([
      'workflows:',
      '  a: { definition: { StartAt: A, States: { A: { Type: Succeed } } }, type: fast }',
    ])[0]!,
    /workflows\.a\.type must be standard or express; got "fast"/,
  );
  assert.match(
    issues(['workflows:', '  a: { defintion: x.asl.json }']).join('\n'),
    /unknown key `defintion` in workflows\.a; did you mean `definition`\?/,
  );
  assert.match(issues(['workflows:', '  a: {}'])[0]!, /workflows\.a needs `definition:`/);
});

test('serverless.yml stepFunctions: Fn::GetAtt of a function resolves; other references are refused', () => {
  const text = (resource: string) =>
    [
      'service: shop',
      'provider: { name: aws }',
      'functions:',
      '  make_thumb:',
      '    handler: index.work',
      'stepFunctions:',
      '  validate: true',
      '  stateMachines:',
      '    flow:',
      '      role: arn:aws:iam::1:role/x',
      '      definition:',
      '        StartAt: T',
      '        States:',
      `          T: { Type: Task, Resource: ${resource}, End: true }`,
    ].join('\n');
  const config = parseAppConfig(
    text('{ Fn::GetAtt: [MakeUnderscorethumbLambdaFunction, Arn] }'),
    join(root, 'serverless.yml'),
  );
  assert.deepEqual(config.workflows.flow?.definition, {
    StartAt: 'T',
    States: { T: { Type: 'Task', Resource: 'make_thumb', End: true } },
  });
  assert.deepEqual(
    config.warnings.map((w) => w.path),
    ['stepFunctions.validate', 'stepFunctions.stateMachines.flow.role'],
  );
  assert.throws(
    () => parseAppConfig(text('{ Fn::GetAtt: [SomeQueue, Arn] }'), join(root, 'serverless.yml')),
    /serverless\.yml:14:\d+: .*\/States\/T\/Resource: Fn::GetAtt \["SomeQueue","Arn"\] cannot be resolved without CloudFormation/,
  );
});
