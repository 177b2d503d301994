// The item list's filters: the URL's query, a person's saved choice, and
// the rows they keep, in the order chosen.
import { beforeEach, expect, test } from 'vitest';
import {
	DEFAULT_FILTERS, filtersFromQuery, queryOfFilters, withFilters, hasFilterParams,
	applyFilters, savedFilters, saveFilters, cleanFilters
} from '../src/filters.js';

const row = ( id, item, extra = {} ) => ( { id, item: { id, wiki: 'enwiki', namespace: 0, performer: 'ip', priority: 0, created_at: 0, revisions: [], ...item }, claim: null, resolved: null, ...extra } );

const ROWS = [
	row( 'enwiki-1', { priority: 80, created_at: 3000, revisions: [ { byte_delta: -900 } ] } ),
	row( 'enwiki-2', { priority: 40, created_at: 1000, performer: 'account', revisions: [ { byte_delta: 12 } ] }, { claim: { holder: 'Alice', expires_at: 1 } } ),
	row( 'dewiki-3', { wiki: 'dewiki', namespace: 2, priority: 10, created_at: 2000, revisions: [ { byte_delta: 300 }, { byte_delta: 250 } ] } ),
	row( 'enwiki-4', { kind: 'log', priority: 5, created_at: 4000 } )
];
const ids = ( rows ) => rows.map( ( r ) => r.id );
const f = ( over ) => ( { ...DEFAULT_FILTERS, ...over } );

beforeEach( () => localStorage.clear() );

test( 'filters travel in the query and come back the same, defaults left out', () => {
	const chosen = f( { wiki: 'enwiki', namespace: '0', performer: 'ip', hideClaimed: true, minScore: '10', maxScore: '90.5', minBytes: '-1000', maxBytes: '0', sort: 'oldest' } );
	const q = queryOfFilters( chosen );
	expect( q ).toEqual( { wiki: 'enwiki', ns: '0', user: 'ip', hide_claimed: '1', min_score: '10', max_score: '90.5', min_bytes: '-1000', max_bytes: '0', sort: 'oldest' } );
	expect( filtersFromQuery( q ) ).toEqual( chosen );
	expect( queryOfFilters( DEFAULT_FILTERS ) ).toEqual( {} );
	expect( hasFilterParams( { uselang: 'he' } ) ).toBe( false );
	expect( hasFilterParams( { uselang: 'he', sort: 'newest' } ) ).toBe( true );
	// Other parameters stay; the filters' are replaced.
	expect( withFilters( { uselang: 'he', wiki: 'dewiki', ns: '4' }, f( { wiki: 'enwiki' } ) ) ).toEqual( { uselang: 'he', wiki: 'enwiki' } );
} );

test( 'bad values in a URL or a saved choice fall back to no filter', () => {
	expect( filtersFromQuery( { wiki: 'en wiki<', ns: 'x', user: 'robot', hide_claimed: 'maybe', min_score: '1e9', max_bytes: '12.5', sort: 'random' } ) ).toEqual( DEFAULT_FILTERS );
	expect( filtersFromQuery( { wiki: [ 'enwiki', 'dewiki' ], ns: '-1' } ) ).toEqual( f( { wiki: 'enwiki', namespace: '-1' } ) );
	expect( cleanFilters( { wiki: 'En Wiki', hideClaimed: 'yes', sort: null } ) ).toEqual( DEFAULT_FILTERS );
} );

test( 'each filter keeps only its rows', () => {
	expect( ids( applyFilters( ROWS, f( { wiki: 'dewiki' } ) ) ) ).toEqual( [ 'dewiki-3' ] );
	expect( ids( applyFilters( ROWS, f( { namespace: '2' } ) ) ) ).toEqual( [ 'dewiki-3' ] );
	expect( ids( applyFilters( ROWS, f( { performer: 'account' } ) ) ) ).toEqual( [ 'enwiki-2' ] );
	expect( ids( applyFilters( ROWS, f( { hideClaimed: true } ) ) ) ).toEqual( [ 'enwiki-1', 'dewiki-3', 'enwiki-4' ] );
	// The person's own claims stay in view.
	expect( ids( applyFilters( ROWS, f( { hideClaimed: true } ), 'Alice' ) ) ).toEqual( ids( ROWS ) );
	expect( ids( applyFilters( ROWS, f( { minScore: '10', maxScore: '40' } ) ) ) ).toEqual( [ 'enwiki-2', 'dewiki-3' ] );
	// Size is the episode's byte change; an item without one passes only
	// when no size is asked.
	expect( ids( applyFilters( ROWS, f( { minBytes: '13' } ) ) ) ).toEqual( [ 'dewiki-3' ] );
	expect( ids( applyFilters( ROWS, f( { maxBytes: '-500' } ) ) ) ).toEqual( [ 'enwiki-1' ] );
	expect( ids( applyFilters( ROWS, f( { minBytes: '12', maxBytes: '12' } ) ) ) ).toEqual( [ 'enwiki-2' ] );
	expect( applyFilters( ROWS, DEFAULT_FILTERS ) ).toBe( ROWS );
} );

test( 'the order: queue order, newest first or oldest first, leaving the rows as they were', () => {
	const before = ids( ROWS );
	expect( ids( applyFilters( ROWS, f( { sort: 'newest' } ) ) ) ).toEqual( [ 'enwiki-4', 'enwiki-1', 'dewiki-3', 'enwiki-2' ] );
	expect( ids( applyFilters( ROWS, f( { sort: 'oldest' } ) ) ) ).toEqual( [ 'enwiki-2', 'dewiki-3', 'enwiki-1', 'enwiki-4' ] );
	expect( ids( applyFilters( ROWS, f( { sort: 'oldest', wiki: 'enwiki' } ) ) ) ).toEqual( [ 'enwiki-2', 'enwiki-1', 'enwiki-4' ] );
	expect( ids( ROWS ) ).toEqual( before );
} );

test( 'a choice is kept per person', () => {
	saveFilters( 'Alice', f( { wiki: 'enwiki', sort: 'newest' } ) );
	saveFilters( 'Bob', f( { hideClaimed: true } ) );
	expect( savedFilters( 'Alice' ) ).toEqual( f( { wiki: 'enwiki', sort: 'newest' } ) );
	expect( savedFilters( 'Bob' ) ).toEqual( f( { hideClaimed: true } ) );
	expect( savedFilters( 'Carol' ) ).toBe( null );
	localStorage.setItem( 'patrolchat.filters.Dan', '{not json' );
	expect( savedFilters( 'Dan' ) ).toBe( null );
} );
