// The English messages in two parts (scripts/split-messages.mjs): the first
// script carries the messages of the modules the entry imports statically,
// the views' chunk the rest, and together they are all of en.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { here } from './sources.js';
import { initialModules, splitMessages } from '../scripts/split-messages.mjs';

const en = JSON.parse( readFileSync( join( here, '../i18n/en.json' ), 'utf8' ) );

test( 'the first script has the messages its modules name; lazy views have theirs in the other part', () => {
	const files = initialModules();
	const names = [ ...files ].map( ( f ) => f.replace( /^.*\/src\//, '' ) );
	expect( names ).toContain( 'components/AppHeader.vue' );
	expect( names ).not.toContain( 'components/ItemView.vue' );
	expect( names ).not.toContain( 'components/SignIn.vue' );
	const { initial, views } = splitMessages( en, files );
	expect( initial[ 'patrolchat-sign-out' ] ).toBe( en[ 'patrolchat-sign-out' ] );
	// Built from a template literal in format.js: every role goes first.
	expect( Object.keys( initial ) ).toContain( 'patrolchat-role-admin' );
	expect( views[ 'patrolchat-signin-title' ] ).toBe( en[ 'patrolchat-signin-title' ] );
	expect( initial[ 'patrolchat-signin-title' ] ).toBeUndefined();
	const all = Object.keys( en ).filter( ( k ) => !k.startsWith( '@' ) ).sort();
	expect( [ ...Object.keys( initial ), ...Object.keys( views ) ].sort() ).toEqual( all );
} );
