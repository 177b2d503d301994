import { expect, test } from 'vitest';
import { createMemoryHistory } from 'vue-router';
import { parsePath, pathOf, makeRouter, viewOf, route, go } from '../src/router.js';

// Stand-ins for the components main.js passes, each named for its view.
const VIEWS = Object.fromEntries( [ 'QueueList', 'ItemList', 'ItemPane', 'RoomView', 'AdminPane', 'MyReports' ]
	.map( ( name ) => [ name, { name, render: () => null } ] ) );
const memoryRouter = () => makeRouter( createMemoryHistory(), VIEWS );

/** What each named `<RouterView>` of App.vue shows for a route. */
function shown( r ) {
	const c = r.matched.length ? r.matched[ r.matched.length - 1 ].components : {};
	return Object.fromEntries( Object.entries( c ).map( ( [ k, v ] ) => [ k, v.name ] ) );
}
const WORKSPACE = { queues: 'QueueList', list: 'ItemList', default: 'ItemPane' };
const SHOWN = {
	home: WORKSPACE,
	queue: WORKSPACE,
	item: WORKSPACE,
	thread: WORKSPACE,
	room: { queues: 'QueueList', default: 'RoomView' },
	admin: { default: 'AdminPane' },
	'my-reports': { default: 'MyReports' }
};

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

// Every path, as Vue Router resolves it (redirects followed), is the view
// parsePath reads, with the query kept, and shows that view's components.
const PATHS = [
	'/', '/queue/patrol', '/queue/patrol/', '/queue/patrol/item/enwiki-1', '/queue/patrol/item/enwiki-1/thread',
	'/queue/patrol/room', '/item/enwiki-1', '/admin', '/me/reports', '/queue/patrol/item/enwiki-1/thread/x',
	'/queue/patrol/other', '/admin/audit', '/me/reports/1', '/me', '/nowhere/at/all', '/queue',
	'/queue/a%20b/item/c%2Fd', '/queue/x/item/%E0%A4%A', '/item/enwiki-1/extra'
];

test( 'Vue Router reads every path as parsePath does', async () => {
	for ( const path of PATHS ) {
		const router = memoryRouter();
		await router.push( `${ path }?uselang=he` );
		const r = router.currentRoute.value;
		const want = parsePath( path );
		expect( viewOf( r ), path ).toEqual( want );
		expect( r.query, path ).toEqual( { uselang: 'he' } );
		expect( parsePath( r.path ), `${ path } landed on ${ r.path }` ).toEqual( want );
		expect( shown( r ), path ).toEqual( SHOWN[ want.name ] );
	}
} );

test( 'go() goes to the paths pathOf writes, keeping the query, and Back returns to the previous view', async () => {
	const router = memoryRouter();
	await router.push( '/queue/patrol?uselang=he' );
	const visit = async ( name, wf, id ) => {
		await go( name, wf, id );
		expect( router.currentRoute.value.fullPath ).toBe( `${ pathOf( name, wf, id ) }?uselang=he` );
		expect( { name: route.name, wf: route.wf, id: route.id } ).toEqual( { name, wf: wf || null, id: id || null } );
	};
	await visit( 'item', 'patrol', 'enwiki-1' );
	await visit( 'thread', 'patrol', 'enwiki-1' );
	await visit( 'room', 'patrol' );
	await visit( 'admin' );
	await visit( 'my-reports' );
	await visit( 'item', 'a/b', 'en wiki:1' );
	expect( router.currentRoute.value.path ).toBe( '/queue/a%2Fb/item/en%20wiki%3A1' );
	const back = ( n ) => new Promise( ( resolve ) => {
		const stop = router.afterEach( () => {
			stop();
			resolve();
		} );
		router.go( -n );
	} );
	await back( 1 );
	expect( viewOf( router.currentRoute.value ).name ).toBe( 'my-reports' );
	await back( 3 );
	expect( viewOf( router.currentRoute.value ) ).toEqual( { name: 'thread', wf: 'patrol', id: 'enwiki-1' } );
	await back( 1 );
	expect( viewOf( router.currentRoute.value ) ).toEqual( { name: 'item', wf: 'patrol', id: 'enwiki-1' } );
	await back( 1 );
	expect( viewOf( router.currentRoute.value ) ).toEqual( { name: 'queue', wf: 'patrol', id: null } );
} );
