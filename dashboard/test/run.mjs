// The dashboard's unit tests, in plain Node (no test framework):
// messages (every English key has a description and a Hebrew translation),
// the parsedcomment sanitiser against script payloads, message linking,
// queue order, backoff, the virtual list's window, links and routes.
//
//   npm test
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { JSDOM } from 'jsdom';
import { sanitizeComment, safeHref, defuse } from '../src/sanitize.js';
import {
	messageSegments, userName, compareItems, insertionIndex, queueScore, backoff,
	visibleRange, clock, pageLinks, diffLink, encodeTitle
} from '../src/text.js';
import { parsePath, pathOf } from '../src/router.js';

let passed = 0;
let failed = 0;

function test( name, fn ) {
	try {
		fn();
		passed++;
		console.log( `ok - ${ name }` );
	} catch ( e ) {
		failed++;
		console.log( `not ok - ${ name }\n  ${ String( e && e.stack || e ).split( '\n' ).join( '\n  ' ) }` );
	}
}

function eq( a, b, msg ) {
	const sa = JSON.stringify( a );
	const sb = JSON.stringify( b );
	if ( sa !== sb ) {
		throw new Error( `${ msg || 'not equal' }:\n    got      ${ sa }\n    expected ${ sb }` );
	}
}

function ok( v, msg ) {
	if ( !v ) {
		throw new Error( msg || 'expected true' );
	}
}

// ------------------------------------------------------------- messages

const dir = new URL( '../i18n/', import.meta.url );
const load = ( name ) => JSON.parse( readFileSync( new URL( `${ name }.json`, dir ), 'utf8' ) );
const en = load( 'en' );
const qqq = load( 'qqq' );
const languages = readdirSync( dir ).filter( ( f ) => f.endsWith( '.json' ) ).map( ( f ) => f.slice( 0, -5 ) );
const keys = ( m ) => Object.keys( m ).filter( ( k ) => !k.startsWith( '@' ) );

test( 'every message file is banana JSON with @metadata', () => {
	for ( const lang of languages ) {
		const m = load( lang );
		ok( m[ '@metadata' ] && typeof m[ '@metadata' ] === 'object', `${ lang }.json has no @metadata` );
		for ( const k of keys( m ) ) {
			ok( typeof m[ k ] === 'string' && m[ k ].trim() !== '', `${ lang }.json: ${ k } is empty or not a string` );
		}
	}
} );

test( 'every English message has a qqq description', () => {
	const missing = keys( en ).filter( ( k ) => !( k in qqq ) );
	eq( missing, [], 'keys without qqq' );
	const extra = keys( qqq ).filter( ( k ) => !( k in en ) );
	eq( extra, [], 'qqq keys that are not in en' );
} );

test( 'Hebrew is complete, with the same parameters', () => {
	const he = load( 'he' );
	eq( keys( en ).filter( ( k ) => !( k in he ) ), [], 'keys missing from he' );
	eq( keys( he ).filter( ( k ) => !( k in en ) ), [], 'he keys that are not in en' );
	const params = ( s ) => [ ...new Set( s.match( /\$\d+/g ) || [] ) ].sort();
	for ( const k of keys( en ) ) {
		eq( params( he[ k ] ), params( en[ k ] ), `parameters of ${ k }` );
	}
} );

test( 'every other translation has only known keys', () => {
	for ( const lang of languages.filter( ( l ) => l !== 'en' && l !== 'qqq' ) ) {
		const m = load( lang );
		eq( keys( m ).filter( ( k ) => !( k in en ) ), [], `${ lang } keys not in en` );
	}
} );

function sources( d ) {
	const out = [];
	for ( const f of readdirSync( d ) ) {
		const p = new URL( f, d );
		if ( statSync( p ).isDirectory() ) {
			out.push( ...sources( new URL( f + '/', d ) ) );
		} else if ( /\.(js|vue)$/.test( f ) ) {
			out.push( readFileSync( p, 'utf8' ) );
		}
	}
	return out;
}

test( 'every message the code names exists in English', () => {
	const code = sources( new URL( '../src/', import.meta.url ) ).join( '\n' );
	const used = [ ...new Set( code.match( /'patrolchat-[a-z0-9-]+'/g ).map( ( s ) => s.slice( 1, -1 ) ) ) ];
	eq( used.filter( ( k ) => !( k in en ) ), [], 'messages used but not defined' );
	for ( const prefix of [ 'outcome', 'performer', 'kind', 'role' ] ) {
		ok( keys( en ).some( ( k ) => k.startsWith( `patrolchat-${ prefix }-` ) ), prefix );
	}
} );

test( 'no component renders HTML from data (no v-html, no innerHTML)', () => {
	const code = sources( new URL( '../src/', import.meta.url ) ).join( '\n' );
	ok( !/\sv-html\s*=/.test( code ), 'v-html found' );
	ok( !/\.innerHTML\s*=|outerHTML\s*=|insertAdjacentHTML|document\.write/.test( code ), 'HTML assignment found' );
} );

// ------------------------------------------------------------ sanitiser

const { DOMParser } = new JSDOM( '' ).window;
const S = 'https://en.wikipedia.org';
const clean = ( html, server = S ) => sanitizeComment( html, server, DOMParser );

test( 'sanitiser keeps text and wiki links, made absolute', () => {
	eq(
		clean( '<span class="autocomment"><a href="/wiki/Foo#History" title="Foo">→‎History</a>: </span> fixed <a href="/wiki/Bar_baz" title="Bar baz">Bar baz</a>' ),
		[
			{ text: '→‎History', href: 'https://en.wikipedia.org/wiki/Foo#History' },
			{ text: ': fixed ' },
			{ text: 'Bar baz', href: 'https://en.wikipedia.org/wiki/Bar_baz' }
		]
	);
} );

test( 'sanitiser keeps external http(s) links', () => {
	eq(
		clean( 'see <a rel="nofollow" class="external text" href="https://example.org/x?a=1&amp;b=2">source</a>' ),
		[ { text: 'see ' }, { text: 'source', href: 'https://example.org/x?a=1&b=2' } ]
	);
	eq( clean( '<a href="//commons.wikimedia.org/wiki/X">X</a>' ), [ { text: 'X', href: 'https://commons.wikimedia.org/wiki/X' } ] );
} );

test( 'sanitiser drops scripts, styles and their content', () => {
	eq( clean( 'a<script>alert(1)</script>b<style>body{display:none}</style>c' ), [ { text: 'abc' } ] );
	eq( clean( '<scr<script>ipt>alert(1)</script>' ), [ { text: 'ipt>alert(1)' } ] );
	eq( clean( '<svg><script>alert(1)</script></svg>x' ), [ { text: 'x' } ] );
	eq( clean( '<template><img src=x onerror=alert(1)></template>y' ), [ { text: 'y' } ] );
	eq( clean( '<noscript><p title="</noscript><img src=x onerror=alert(1)>">' ).filter( ( s ) => s.href ), [] );
} );

test( 'sanitiser drops images, iframes, forms and event handlers', () => {
	eq( clean( '<img src="x" onerror="alert(1)">hi' ), [ { text: 'hi' } ] );
	eq( clean( '<iframe src="javascript:alert(1)"></iframe>ok' ), [ { text: 'ok' } ] );
	eq( clean( '<b onmouseover="alert(1)">bold</b>' ), [ { text: 'bold' } ] );
	eq( clean( '<form action="https://evil.example"><button>go</button></form>z' ), [ { text: 'z' } ] );
	eq( clean( '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>' ), [] );
} );

test( 'sanitiser turns dangerous links into text', () => {
	for ( const href of [
		'javascript:alert(1)', 'JaVaScRiPt:alert(1)', ' javascript:alert(1)', 'java\tscript:alert(1)',
		'&#106;avascript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'vbscript:x',
		'wiki/Relative', './Foo', '#top', '/\\evil.example/x', 'https://user:pw@example.org/'
	] ) {
		const segs = clean( `<a href="${ href.replace( /"/g, '&quot;' ) }">t</a>` );
		eq( segs, [ { text: 't' } ], `href ${ JSON.stringify( href ) }` );
	}
	eq( clean( '<a href="/wiki/X">t</a>', 'javascript:alert(1)' ), [ { text: 't' } ], 'bad server URL' );
	eq( clean( '<a>no href</a>' ), [ { text: 'no href' } ] );
} );

test( 'sanitiser reads link text without markup inside', () => {
	eq( clean( '<a href="/wiki/A"><img src=x onerror=alert(1)><script>bad()</script><b>A</b>!</a>' ), [ { text: 'A!', href: 'https://en.wikipedia.org/wiki/A' } ] );
	eq( clean( '<a href="/wiki/A"><a href="javascript:x">B</a></a>' ).map( ( s ) => s.href || null ).filter( Boolean ).every( ( h ) => h.startsWith( 'https:' ) ), true );
} );

test( 'sanitiser output is only text and http(s) hrefs', () => {
	const payloads = [
		'<a href="https://ok.example" onclick="alert(1)" style="x" target="_self">x</a>',
		'<<a href="/wiki/Q">q</a>',
		'"><script>alert(document.cookie)</script>',
		'<div><p><span><a href="http://plain.example/">p</a></span></p></div>',
		'&lt;script&gt;alert(1)&lt;/script&gt;'
	];
	for ( const p of payloads ) {
		for ( const s of clean( p ) ) {
			eq( Object.keys( s ).filter( ( k ) => k !== 'text' && k !== 'href' ), [] );
			ok( s.href === undefined || /^https?:\/\//.test( s.href ), s.href );
		}
	}
	eq( clean( '&lt;script&gt;alert(1)&lt;/script&gt;' ), [ { text: '<script>alert(1)</script>' } ], 'entities stay text' );
	eq( clean( '' ), [] );
	eq( clean( null ), [] );
} );

test( 'sanitiser survives deep nesting', () => {
	const deep = '<span>'.repeat( 1000 ) + 'deep' + '</span>'.repeat( 1000 );
	eq( clean( deep ).map( ( s ) => s.text ).join( '' ), 'deep' );
} );

test( 'defuse takes handlers and styles out of tags, not out of text', () => {
	const squeeze = ( s ) => s.replace( /\s+>/g, '>' );
	eq( squeeze( defuse( '<img src=x onerror=alert(1)>' ) ), '<img src=x>' );
	eq( squeeze( defuse( '<a href="/wiki/A" onclick="a()" ONMOUSEOVER = \'b()\' style="x">on=1 style=2</a>' ) ), '<a href="/wiki/A">on=1 style=2</a>' );
	eq( defuse( '<svg/onload=alert(1)>' ), '<svg/>' );
	eq( squeeze( defuse( '<a title="a>b" onclick=x>t</a>' ) ), '<a title="a>b">t</a>' );
	eq( defuse( '<STYLE>b{}</STYLE>' ), '<x-style>b{}</x-style>' );
	eq( defuse( 'plain onclick=1 text' ), 'plain onclick=1 text' );
	const { document } = new JSDOM( '' ).window;
	for ( const p of [ '<img src=x onerror=alert(1)>', '<a href="x" onclick="y"style="z"onmouseover="w">t</a>', '<b o style="" nclick=1>q</b>', '<a x="a"style="b"onclick=1>r</a>' ] ) {
		const doc = new DOMParser().parseFromString( defuse( p ), 'text/html' );
		const attrs = [ ...doc.body.querySelectorAll( '*' ) ].flatMap( ( el ) => [ ...el.attributes ].map( ( a ) => a.name ) );
		ok( !attrs.some( ( a ) => /^on|^style$/i.test( a ) ), `${ p } keeps ${ attrs }` );
	}
	ok( document, 'jsdom' );
} );

test( 'safeHref keeps http(s) and wiki paths only', () => {
	eq( safeHref( '/w/index.php?diff=2&oldid=1', S ), 'https://en.wikipedia.org/w/index.php?diff=2&oldid=1' );
	eq( safeHref( 'http://x.example/', S ), 'http://x.example/' );
	eq( safeHref( 'mailto:a@b', S ), null );
	eq( safeHref( '/wiki/X', 'ftp://x' ), null );
} );

// --------------------------------------------------------------- linking

test( 'messages: URLs become links, @Name mentions, the rest text', () => {
	eq( messageSegments( 'see https://en.wikipedia.org/wiki/Foo_(bar). @alice_b: ok' ), [
		{ type: 'text', text: 'see ' },
		{ type: 'link', text: 'https://en.wikipedia.org/wiki/Foo_(bar)', href: 'https://en.wikipedia.org/wiki/Foo_(bar)' },
		{ type: 'text', text: '. ' },
		{ type: 'mention', text: '@alice_b', name: 'Alice b' },
		{ type: 'text', text: ': ok' }
	] );
} );

test( 'messages: no mention inside an address, no script links', () => {
	eq( messageSegments( 'mail me at a@example.org' ), [ { type: 'text', text: 'mail me at a@example.org' } ] );
	eq( messageSegments( 'javascript:alert(1) <b>x</b>' ), [ { type: 'text', text: 'javascript:alert(1) <b>x</b>' } ] );
	eq( messageSegments( 'just @ alone' ), [ { type: 'text', text: 'just @ alone' } ] );
	eq( messageSegments( '' ), [] );
} );

test( 'messages: trailing punctuation is not part of a link', () => {
	const s = messageSegments( '(https://example.org/a), and https://example.org/b!' );
	eq( s.filter( ( x ) => x.type === 'link' ).map( ( x ) => x.text ), [ 'https://example.org/a', 'https://example.org/b' ] );
	eq( s.map( ( x ) => x.text ).join( '' ), '(https://example.org/a), and https://example.org/b!' );
} );

test( 'user names read as the wiki spells them', () => {
	eq( userName( 'bob_smith' ), 'Bob smith' );
	eq( userName( 'Ünal' ), 'Ünal' );
} );

// ----------------------------------------------------------- queue order

test( 'queue order: priority first (highest first), then oldest, then id', () => {
	const a = { id: 'w-1', priority: 10, created_at: 2000000 };
	const b = { id: 'w-2', priority: 20, created_at: 3000000 };
	const c = { id: 'w-3', priority: 10, created_at: 1000000 };
	const d = { id: 'w-0', priority: 10, created_at: 1000500 };
	eq( [ a, b, c, d ].sort( compareItems ).map( ( x ) => x.id ), [ 'w-2', 'w-0', 'w-3', 'w-1' ] );
	ok( queueScore( b ) < queueScore( a ) );
	const rows = [ b, c, a ].map( ( item ) => ( { item } ) );
	eq( insertionIndex( rows, { id: 'w-9', priority: 15, created_at: 0 } ), 1 );
	eq( insertionIndex( rows, { id: 'w-9', priority: 1, created_at: 0 } ), 3 );
	eq( insertionIndex( [], a ), 0 );
} );

test( 'backoff doubles from 1 s to 30 s with jitter', () => {
	eq( [ 0, 1, 2, 3, 4, 5, 9 ].map( ( n ) => backoff( n, () => 0.5 ) ), [ 1000, 2000, 4000, 8000, 16000, 30000, 30000 ] );
	for ( let n = 0; n < 12; n++ ) {
		for ( const r of [ 0, 0.999 ] ) {
			const v = backoff( n, () => r );
			ok( v >= 1000 && v <= 30000, `attempt ${ n }: ${ v }` );
		}
	}
	ok( backoff( 3, () => 0 ) < backoff( 3, () => 0.99 ), 'jitter' );
} );

test( 'virtual list renders only the rows in view', () => {
	eq( visibleRange( 0, 560, 56, 5000, 5 ), { start: 0, end: 16 } );
	eq( visibleRange( 56 * 1000, 560, 56, 5000, 5 ), { start: 995, end: 1016 } );
	eq( visibleRange( 56 * 4995, 560, 56, 5000, 5 ), { start: 4990, end: 5000 } );
	eq( visibleRange( 0, 560, 56, 0, 5 ), { start: 0, end: 0 } );
	const big = visibleRange( 123456, 900, 56, 5000, 6 );
	ok( big.end - big.start < 40, 'a few dozen rows at most' );
} );

test( 'lease clock', () => {
	eq( clock( 272000 ), '4:32' );
	eq( clock( -5 ), '0:00' );
	eq( clock( 1 ), '0:01' );
} );

test( 'links to the wiki', () => {
	const item = { server_url: 'https://en.wikipedia.org', title: 'Talk:Foo bar/Baz?', user: '1.2.3.4' };
	eq( pageLinks( item ), {
		page: 'https://en.wikipedia.org/wiki/Talk:Foo_bar/Baz%3F',
		history: 'https://en.wikipedia.org/w/index.php?title=Talk:Foo_bar/Baz%3F&action=history'
	} );
	eq( diffLink( item, { rev_id: 12, old_rev_id: 11 } ), 'https://en.wikipedia.org/w/index.php?diff=12&oldid=11' );
	eq( diffLink( item, { rev_id: 12 } ), 'https://en.wikipedia.org/w/index.php?oldid=12' );
	eq( diffLink( { ...item, server_url: 'javascript:alert(1)' }, { rev_id: 1 } ), null );
	eq( pageLinks( { ...item, server_url: 'javascript://x' } ), { page: null, history: null } );
	eq( encodeTitle( 'A&B #1' ), 'A%26B_%231' );
} );

test( 'routes', () => {
	eq( parsePath( '/' ), { name: 'home', wf: null, id: null } );
	eq( parsePath( '/queue/patrol' ), { name: 'queue', wf: 'patrol', id: null } );
	eq( parsePath( '/queue/patrol/item/enwiki-1' ), { name: 'item', wf: 'patrol', id: 'enwiki-1' } );
	eq( parsePath( '/queue/patrol/item/enwiki-1/thread' ), { name: 'thread', wf: 'patrol', id: 'enwiki-1' } );
	eq( parsePath( '/queue/patrol/room' ), { name: 'room', wf: 'patrol', id: null } );
	eq( parsePath( '/item/enwiki-1' ), { name: 'item', wf: null, id: 'enwiki-1' } );
	eq( parsePath( '/admin' ), { name: 'admin', wf: null, id: null } );
	eq( pathOf( 'thread', 'patrol', 'enwiki-1' ), '/queue/patrol/item/enwiki-1/thread' );
	eq( pathOf( 'item', null, 'enwiki-1' ), '/item/enwiki-1' );
} );

console.log( `\n${ passed } passed, ${ failed } failed` );
process.exit( failed ? 1 : 0 );
