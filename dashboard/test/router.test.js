import { expect, test } from 'vitest';
import { parsePath, pathOf } from '../src/router.js';

test( 'routes', () => {
	expect( parsePath( '/' ) ).toEqual( { name: 'home', wf: null, id: null } );
	expect( parsePath( '/queue/patrol' ) ).toEqual( { name: 'queue', wf: 'patrol', id: null } );
	expect( parsePath( '/queue/patrol/item/enwiki-1' ) ).toEqual( { name: 'item', wf: 'patrol', id: 'enwiki-1' } );
	expect( parsePath( '/queue/patrol/item/enwiki-1/thread' ) ).toEqual( { name: 'thread', wf: 'patrol', id: 'enwiki-1' } );
	expect( parsePath( '/queue/patrol/room' ) ).toEqual( { name: 'room', wf: 'patrol', id: null } );
	expect( parsePath( '/item/enwiki-1' ) ).toEqual( { name: 'item', wf: null, id: 'enwiki-1' } );
	expect( parsePath( '/admin' ) ).toEqual( { name: 'admin', wf: null, id: null } );
	expect( pathOf( 'thread', 'patrol', 'enwiki-1' ) ).toBe( '/queue/patrol/item/enwiki-1/thread' );
	expect( pathOf( 'item', null, 'enwiki-1' ) ).toBe( '/item/enwiki-1' );
} );
