// An error from the api is said in the interface language from its code
// and fields; where the api names the person involved, so does the text.
import { expect, test } from 'vitest';
import { ApiError } from '../src/api.js';
import { errorText } from '../src/errors.js';

const err = ( status, error ) => new ApiError( status, { error }, error.message );

test( 'a code with the person involved names them; without, the general sentence', () => {
	expect( errorText( err( 409, { code: 'already_reverted', message: 'already reverted by Zed', by: 'Zed' } ) ) ).toBe( 'Zed already reverted this edit.' );
	expect( errorText( err( 409, { code: 'already_reverted', message: 'x' } ) ) ).toBe( 'Someone already reverted this edit.' );
	expect( errorText( err( 409, { code: 'busy', message: 'x', by: 'Ann' } ) ) ).toBe( 'Ann is acting on this item on the wiki right now; wait for it.' );
	expect( errorText( err( 409, { code: 'not_latest', message: 'x', by: 'Bo' } ) ) ).toBe( 'The page changed since: the latest edit is by Bo. Look at it again.' );
} );

test( 'the api\'s English message is never what the person reads', () => {
	for ( const code of [ 'bad_request', 'not_found', 'conflict', 'timeout', 'page_gone', 'edit_conflict', 'forbidden' ] ) {
		const text = errorText( err( 400, { code, message: 'API ENGLISH' } ) );
		expect( text, code ).not.toContain( 'API ENGLISH' );
		expect( text.length, code ).toBeGreaterThan( 10 );
	}
	// A code this page does not know yet: a general sentence with the code.
	expect( errorText( err( 409, { code: 'from_the_future', message: 'API ENGLISH' } ) ) ).toBe( 'Something went wrong: from_the_future' );
	expect( errorText( err( 429, { code: 'too_many_open', message: 'x', max: 3, retry_after_s: 20 } ) ) ).toBe( 'You have 3 open already; close one, or try again in 20 s.' );
	expect( errorText( err( 404, { code: 'unknown_user', message: 'x', users: [ 'Ann', 'Bo', 'Cy' ] } ) ) ).toBe( 'No one who has signed in to patrolchat is called Ann, Bo, and Cy.' );
} );
