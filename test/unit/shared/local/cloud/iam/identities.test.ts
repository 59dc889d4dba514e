import { describe, expect, it } from 'vitest';
import {
  credentialsFor,
  IdentityConflictError,
  LocalIdentities,
  type LocalRole,
  UnknownRoleError,
} from '../../../../../../shared/local/cloud/iam/index.ts';

function role(name: string): LocalRole {
  return {
    arn: `arn:aws:iam::123456789012:role/${name}`,
    name,
    stack: 'Test',
    logicalId: name,
    policies: [],
  };
}

describe('LocalIdentities', () => {
  it('gives each role the same 20-character access key id on every run, and finds the role by it', () => {
    // Prepare
    const writer = role('writer');
    const identities = new LocalIdentities([writer, role('reader')]);
    // Act
    const { accessKeyId } = identities.credentialsFor(writer);
    // Assess
    expect(accessKeyId).toMatch(/^ASIALOCAL[0-9A-F]{11}$/);
    expect(credentialsFor(role('writer')).accessKeyId).toBe(accessKeyId);
    expect(credentialsFor(role('reader')).accessKeyId).not.toBe(accessKeyId);
    expect(identities.roleOfAccessKey(accessKeyId)).toBe(writer);
  });

  it('knows no role for the admin key or a role key of another registry', () => {
    // Prepare
    const identities = new LocalIdentities([role('writer')]);
    // Act
    const admin = identities.roleOfAccessKey('local');
    const foreign = identities.roleOfAccessKey(credentialsFor(role('stranger')).accessKeyId);
    // Assess
    expect([admin, foreign]).toEqual([undefined, undefined]);
    expect(() => identities.credentialsFor(role('stranger'))).toThrow(UnknownRoleError);
  });

  it('refuses two roles with one ARN', () => {
    // Act
    const building = () => new LocalIdentities([role('writer'), role('writer')]);
    // Assess
    expect(building).toThrow(IdentityConflictError);
  });
});
