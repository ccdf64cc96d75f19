import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Request } from 'express';
import { AuthService, TokenPair } from './auth.service';
import { AuthUserDto, LoginDto, LogoutDto, RefreshDto, TokenPairDto } from './auth.dto';
import { CurrentUser } from './auth.guard';
import { Authenticated, Public, ROLE_PERMISSIONS } from './permissions';
import type { AuthUser } from './session.service';

@ApiTags('auth')
@Controller('api/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('login')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in: a short-lived access token and a refresh token (rate-limited per client address)' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiUnauthorizedResponse({ description: 'Wrong username or password, or the user is disabled (UNAUTHENTICATED)' })
  @ApiTooManyRequestsResponse({ description: 'Too many attempts from this address (RESOURCE_EXHAUSTED)' })
  login(@Body() body: LoginDto, @Req() req: Request): Promise<TokenPair> {
    return this.auth.login(body.username, body.password, req.ip ?? req.socket.remoteAddress ?? 'unknown');
  }

  @Post('refresh')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'A new token pair for a refresh token; the old refresh token stops working' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiUnauthorizedResponse({ description: 'Unknown, used, revoked or expired refresh token (UNAUTHENTICATED)' })
  refresh(@Body() body: RefreshDto): Promise<TokenPair> {
    return this.auth.refresh(body.refreshToken);
  }

  @Post('logout')
  @Authenticated()
  @HttpCode(204)
  @ApiOperation({ summary: "Sign out: revokes the access token's session (and that of `refreshToken` when given)" })
  @ApiNoContentResponse({ description: 'The session is revoked: its access and refresh tokens no longer work' })
  async logout(@CurrentUser() user: AuthUser, @Body() body: LogoutDto): Promise<void> {
    await this.auth.logout(user, body.refreshToken);
  }

  @Get('userinfo')
  @Authenticated()
  @ApiOperation({ summary: 'The signed-in user and what the role may do' })
  @ApiOkResponse({ type: AuthUserDto })
  userinfo(@CurrentUser() user: AuthUser): AuthUserDto {
    return { ...user, permissions: [...ROLE_PERMISSIONS[user.role]] };
  }
}
