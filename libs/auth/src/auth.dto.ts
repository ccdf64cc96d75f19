import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, Length, Matches, MaxLength, MinLength } from 'class-validator';
import type { Role } from '@m7s/persistence';
import { ROLES } from './permissions';
import { PASSWORD_MAX, PASSWORD_MIN } from './users.service';

const USERNAME_INPUT = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;
const USERNAME_DOC = 'Letters, digits and _ . @ -, up to 64; case-insensitive (kept lower-case)';

export class LoginDto {
  @ApiProperty({ example: 'admin', maxLength: 64 }) @IsString() @MinLength(1) @MaxLength(64) username!: string;
  @ApiProperty({ format: 'password', maxLength: PASSWORD_MAX }) @IsString() @MinLength(1) @MaxLength(PASSWORD_MAX) password!: string;
}

export class RefreshDto {
  @ApiProperty({ description: 'The refresh token of the last login or refresh' }) @IsString() @MinLength(1) @MaxLength(256) refreshToken!: string;
}

export class LogoutDto {
  @ApiPropertyOptional({ description: 'Also revoke the session of this refresh token' }) @IsOptional() @IsString() @MaxLength(256) refreshToken?: string;
}

export class UserDto {
  @ApiProperty() id!: number;
  @ApiProperty() username!: string;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiProperty() disabled!: boolean;
  @ApiProperty({ description: 'ms since the Unix epoch' }) createdAt!: number;
  @ApiProperty({ description: 'ms since the Unix epoch' }) updatedAt!: number;
}

export class AuthUserDto {
  @ApiProperty() id!: number;
  @ApiProperty() username!: string;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiProperty({ description: 'The session (login) of the token' }) sid!: string;
  @ApiProperty({ description: 'What the role may do', type: [String] }) permissions!: string[];
}

export class TokenPairDto {
  @ApiProperty({ description: 'JWT (HS256) to send as `Authorization: Bearer <token>`' }) accessToken!: string;
  @ApiProperty({ description: 'Opaque; exchange at POST /api/auth/refresh (each one works once)' }) refreshToken!: string;
  @ApiProperty({ enum: ['Bearer'] }) tokenType!: 'Bearer';
  @ApiProperty({ description: 'Access token lifetime in seconds' }) expiresIn!: number;
  @ApiProperty({ type: UserDto }) user!: UserDto;
}

export class CreateUserDto {
  @ApiProperty({ example: 'alice', description: USERNAME_DOC }) @IsString() @Matches(USERNAME_INPUT, { message: 'username: letters, digits and _ . @ -, up to 64' }) username!: string;
  @ApiProperty({ format: 'password', minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX }) @IsString() @Length(PASSWORD_MIN, PASSWORD_MAX) password!: string;
  @ApiProperty({ enum: ROLES }) @IsIn(ROLES) role!: Role;
}

/** Absent fields stay as they are. */
export class UpdateUserDto {
  @ApiPropertyOptional({ format: 'password', minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX, description: 'A new password signs the user out everywhere' })
  @IsOptional()
  @IsString()
  @Length(PASSWORD_MIN, PASSWORD_MAX)
  password?: string;
  @ApiPropertyOptional({ enum: ROLES }) @IsOptional() @IsIn(ROLES) role?: Role;
  @ApiPropertyOptional({ description: 'A disabled user cannot sign in and its tokens stop working' }) @IsOptional() @IsBoolean() disabled?: boolean;
}
