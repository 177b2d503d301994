// Message linking, queue order, backoff, the virtual list's window, the
// lease clock and links to the wiki (src/text.js).
import { describe, expect, test } from 'vitest';
import {
	messageSegments, userName, compareItems, insertionIndex, queueScore, backoff,
	visibleRange, clock, pageLinks, diffLink, encodeTitle
} from '../src/text.js';

describe( 'linking', () => {
	test( 'messages: URLs become links, @Name mentions, the rest text', () => {
		expect( messageSegments( 'see https://en.wikipedia.org/wiki/Foo_(bar). @alice_b: ok' ) ).toEqual( [
			{ type: 'text', text: 'see ' },
			{ type: 'link', text: 'https://en.wikipedia.org/wiki/Foo_(bar)', href: 'https://en.wikipedia.org/wiki/Foo_(bar)' },
			{ type: 'text', text: '. ' },
			{ type: 'mention', text: '@alice_b', name: 'Alice b' },
			{ type: 'text', text: ': ok' }
		] );
	} );

	test( 'messages: no mention inside an address, no script links', () => {
		expect( messageSegments( 'mail me at a@example.org' ) ).toEqual( [ { type: 'text', text: 'mail me at a@example.org' } ] );
		expect( messageSegments( 'javascript:alert(1) <b>x</b>' ) ).toEqual( [ { type: 'text', text: 'javascript:alert(1) <b>x</b>' } ] );
		expect( messageSegments( 'just @ alone' ) ).toEqual( [ { type: 'text', text: 'just @ alone' } ] );
		expect( messageSegments( '' ) ).toEqual( [] );
	} );

	test( 'messages: trailing punctuation is not part of a link', () => {
		const s = messageSegments( '(https://example.org/a), and https://example.org/b!' );
		expect( s.filter( ( x ) => x.type === 'link' ).map( ( x ) => x.text ) ).toEqual( [ 'https://example.org/a', 'https://example.org/b' ] );
		expect( s.map( ( x ) => x.text ).join( '' ) ).toBe( '(https://example.org/a), and https://example.org/b!' );
	} );

	test( 'user names read as the wiki spells them', () => {
		expect( userName( 'bob_smith' ) ).toBe( 'Bob smith' );
		expect( userName( 'Ünal' ) ).toBe( 'Ünal' );
	} );
} );

describe( 'queue', () => {
	test( 'queue order: priority first (highest first), then oldest, then id', () => {
		const a = { id: 'w-1', priority: 10, created_at: 2000000 };
		const b = { id: 'w-2', priority: 20, created_at: 3000000 };
		const c = { id: 'w-3', priority: 10, created_at: 1000000 };
		const d = { id: 'w-0', priority: 10, created_at: 1000500 };
		expect( [ a, b, c, d ].sort( compareItems ).map( ( x ) => x.id ) ).toEqual( [ 'w-2', 'w-0', 'w-3', 'w-1' ] );
		expect( queueScore( b ) < queueScore( a ) ).toBe( true );
		const rows = [ b, c, a ].map( ( item ) => ( { item } ) );
		expect( insertionIndex( rows, { id: 'w-9', priority: 15, created_at: 0 } ) ).toBe( 1 );
		expect( insertionIndex( rows, { id: 'w-9', priority: 1, created_at: 0 } ) ).toBe( 3 );
		expect( insertionIndex( [], a ) ).toBe( 0 );
	} );

	test( 'backoff doubles from 1 s to 30 s with jitter', () => {
		expect( [ 0, 1, 2, 3, 4, 5, 9 ].map( ( n ) => backoff( n, () => 0.5 ) ) ).toEqual( [ 1000, 2000, 4000, 8000, 16000, 30000, 30000 ] );
		for ( let n = 0; n < 12; n++ ) {
			for ( const r of [ 0, 0.999 ] ) {
				const v = backoff( n, () => r );
				expect( v >= 1000 && v <= 30000, `attempt ${ n }: ${ v }` ).toBe( true );
			}
		}
		expect( backoff( 3, () => 0 ) < backoff( 3, () => 0.99 ), 'jitter' ).toBe( true );
	} );

	test( 'virtual list renders only the rows in view', () => {
		expect( visibleRange( 0, 560, 56, 5000, 5 ) ).toEqual( { start: 0, end: 16 } );
		expect( visibleRange( 56 * 1000, 560, 56, 5000, 5 ) ).toEqual( { start: 995, end: 1016 } );
		expect( visibleRange( 56 * 4995, 560, 56, 5000, 5 ) ).toEqual( { start: 4990, end: 5000 } );
		expect( visibleRange( 0, 560, 56, 0, 5 ) ).toEqual( { start: 0, end: 0 } );
		const big = visibleRange( 123456, 900, 56, 5000, 6 );
		expect( big.end - big.start < 40, 'a few dozen rows at most' ).toBe( true );
	} );

	test( 'lease clock', () => {
		expect( clock( 272000 ) ).toBe( '4:32' );
		expect( clock( -5 ) ).toBe( '0:00' );
		expect( clock( 1 ) ).toBe( '0:01' );
	} );
} );

test( 'links to the wiki', () => {
	const item = { server_url: 'https://en.wikipedia.org', title: 'Talk:Foo bar/Baz?', user: '1.2.3.4' };
	expect( pageLinks( item ) ).toEqual( {
		page: 'https://en.wikipedia.org/wiki/Talk:Foo_bar/Baz%3F',
		history: 'https://en.wikipedia.org/w/index.php?title=Talk:Foo_bar/Baz%3F&action=history'
	} );
	expect( diffLink( item, { rev_id: 12, old_rev_id: 11 } ) ).toBe( 'https://en.wikipedia.org/w/index.php?diff=12&oldid=11' );
	expect( diffLink( item, { rev_id: 12 } ) ).toBe( 'https://en.wikipedia.org/w/index.php?oldid=12' );
	expect( diffLink( { ...item, server_url: 'javascript:alert(1)' }, { rev_id: 1 } ) ).toBe( null );
	expect( pageLinks( { ...item, server_url: 'javascript://x' } ) ).toEqual( { page: null, history: null } );
	expect( encodeTitle( 'A&B #1' ) ).toBe( 'A%26B_%231' );
} );
