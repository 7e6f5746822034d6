/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/emulator'],
  testTimeout: 120000,
  reporters: ['default', '<rootDir>/test/summaryReporter.js'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
};
